//! Public verification by code: `POST /api/v1/verify/code` `{"code"}` and
//! `POST /api/v1/verify/batch` `{"codes": [...]}` (at most 100, answered in
//! order).
//!
//! The hot path of the service. Store round trips per single verification:
//! the rate-limit increment, the code lookup, one `get_many` for the report
//! and its revocation status, and the audit entry (increment + write). A
//! batch pays the rate limit and the audit once, and looks all its codes up
//! in the same two round trips as one code.

use credit_core::usecase::verification::Verifier;
use platform::{Answer, SpinStore, json, store, visitor};
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

/// A code, or a hundred of them, with room for whitespace.
const MAX_BODY_BYTES: usize = 16 * 1024;

#[http_component]
fn handle(req: Request) -> Response {
    if platform::cors::is_preflight(req.method()) {
        return platform::cors::preflight();
    }
    let mut router = Router::new();
    router.post("/api/v1/verify/code", verify_code);
    router.post("/api/v1/verify/batch", verify_codes);
    platform::refuse_the_rest(
        &mut router,
        &[
            ("/api/v1/verify/code", "POST"),
            ("/api/v1/verify/batch", "POST"),
        ],
    );
    let mut response = router.handle(req);
    platform::cors::allow_any_origin(&mut response);
    response
}

/// Runs `verify` for a visitor admitted within its rate limit: the body is
/// read only then.
fn admitted(req: &Request, verify: impl FnOnce(&Verifier<'_, SpinStore>) -> Answer) -> Answer {
    let kv = store()?;
    let settings = platform::settings()?;
    let visitor = visitor(
        platform::header(req, "spin-client-addr"),
        platform::header(req, "x-forwarded-for"),
        &settings,
    );
    verify(&Verifier::admit(
        &kv,
        visitor,
        settings.verify_rate_limit_per_minute,
    )?)
}

fn verify_code(req: Request, _: Params) -> Answer {
    admitted(&req, |verifier| {
        let body = platform::json_body(&req, MAX_BODY_BYTES)?;
        json(200, &verifier.code(&body)?)
    })
}

fn verify_codes(req: Request, _: Params) -> Answer {
    admitted(&req, |verifier| {
        let body = platform::json_body(&req, MAX_BODY_BYTES)?;
        json(200, &verifier.batch(&body)?)
    })
}
