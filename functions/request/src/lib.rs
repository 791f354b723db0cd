//! Report application: `POST /api/v1/reports`, `GET /api/v1/reports?uscc=`,
//! `GET /api/v1/reports/{report_no}`. (`…/{report_no}/pdf` is the generate
//! component's.)

use credit_core::usecase::{entity_param, reports};
use platform::{Answer, caller, json, param, query_param, store};
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

/// An application is a few short fields.
const MAX_BODY_BYTES: usize = 64 * 1024;

#[http_component]
fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.post("/api/v1/reports", apply);
    router.get("/api/v1/reports", list);
    router.get("/api/v1/reports/:report_no", show);
    platform::refuse_the_rest(
        &mut router,
        &[
            ("/api/v1/reports", "GET, POST"),
            ("/api/v1/reports/:report_no", "GET"),
        ],
    );
    router.handle(req)
}

fn apply(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let body = platform::json_body(&req, MAX_BODY_BYTES)?;
    let view = reports::apply(&store()?, &caller, &body, &settings.rules)?;
    let mut response = json(201, &view)?;
    response.set_header("location", reports::location(&view.report.report_no));
    Ok(response)
}

fn show(req: Request, params: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    json(
        200,
        &reports::report(&store()?, &caller, param(&params, "report_no"))?,
    )
}

fn list(req: Request, _: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let requested = entity_param(query_param(&req, "uscc").as_deref())?;
    let page = platform::page_request(&req)?;
    json(
        200,
        &reports::reports_of(&store()?, &caller, requested, &page)?,
    )
}
