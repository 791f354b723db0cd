//! Public verification by code: `POST /api/v1/verify/code` `{"code"}` and
//! `POST /api/v1/verify/batch` `{"codes": [...]}` (at most 100, answered in
//! order).
//!
//! The hot path of the service. Store operations per single verification:
//! 3 for a repeat visitor of the minute (the rate-limit increment, whose
//! value names the access-log slot; one `get_many` of the code's index
//! entry, which carries the answer; one `set_many` writing the access
//! entry), 4 for a client's first request of the minute (plus the visitor
//! counter's increment, the global ceiling). A batch costs the same, its
//! codes looked up in the one `get_many`, and counts its number of codes
//! against the limit. Every answer carries `RateLimit` and
//! `RateLimit-Policy`; a 429 also `Retry-After`.

use credit_core::error::Error;
use credit_core::store::Admission;
use credit_core::usecase::verification::{Verifier, batch_cost};
use platform::{Answer, SpinStore, json, store, visitor};
use spin_sdk::http::{IntoResponse, Params, Request, Response, Router};
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

/// Counts the request (`cost` codes) against the visitor's limits, then
/// runs `verify` and answers with the rate-limit headers. A single code is
/// counted before its body is read.
fn admitted(
    req: &Request,
    cost: impl FnOnce() -> u32,
    verify: impl FnOnce(&Verifier<'_, SpinStore>, &Admission) -> Answer,
) -> Response {
    let run = || -> Result<Response, Error> {
        let kv = store()?;
        let settings = platform::visitor_settings()?;
        let visitor = visitor(
            platform::header(req, "spin-client-addr"),
            platform::header(req, "x-forwarded-for"),
            &settings,
        );
        let (verifier, admission) = match platform::admit_verifier(&kv, visitor, &settings, cost())
        {
            Ok(admitted) => admitted,
            Err(refusal) => return Ok(refusal),
        };
        Ok(platform::with_headers(
            verify(&verifier, &admission),
            &admission.headers(),
        ))
    };
    run().unwrap_or_else(|error| platform::Problem(error).into_response())
}

fn verify_code(req: Request, _: Params) -> Response {
    admitted(
        &req,
        || 1,
        |verifier, admission| {
            let body = platform::json_body(&req, MAX_BODY_BYTES);
            json(200, &verifier.code(admission, body)?)
        },
    )
}

/// A batch costs its number of codes, so its body (at most 16 KiB) is
/// parsed before it is counted.
fn verify_codes(req: Request, _: Params) -> Response {
    let body = platform::json_body(&req, MAX_BODY_BYTES);
    let cost = batch_cost(&body);
    admitted(
        &req,
        || cost,
        |verifier, admission| json(200, &verifier.batch(admission, body)?),
    )
}
