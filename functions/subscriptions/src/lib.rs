//! Revocation notices for relying parties (docs/integration.md): an API
//! client registers a report it accepted (`POST /api/v1/subscriptions`
//! `{"report_no", "code", "callback_url"?}`), reads its feed of revocations
//! and expiries (`GET /api/v1/subscriptions/events?after=`; pending
//! webhooks are retried then) and its webhook's delivery log
//! (`GET /api/v1/subscriptions/deliveries`).

use credit_core::usecase::subscriptions::{self, ApiClient};
use platform::{Answer, OutboundWebhook, json, query_param, store};
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

const MAX_BODY_BYTES: usize = 4 * 1024;

#[http_component]
fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.post("/api/v1/subscriptions", subscribe);
    router.get("/api/v1/subscriptions/events", events);
    router.get("/api/v1/subscriptions/deliveries", deliveries);
    platform::refuse_the_rest(
        &mut router,
        &[
            ("/api/v1/subscriptions", "POST"),
            ("/api/v1/subscriptions/events", "GET"),
            ("/api/v1/subscriptions/deliveries", "GET"),
        ],
    );
    router.handle(req)
}

fn client(req: &Request) -> Result<ApiClient, platform::Problem> {
    Ok(platform::api_client(req, &platform::settings()?)?)
}

fn subscribe(req: Request, _: Params) -> Answer {
    let client = client(&req)?;
    let body = platform::json_body(&req, MAX_BODY_BYTES)?;
    let registered = subscriptions::subscribe(&store()?, &client, &body)?;
    json(if registered.created { 201 } else { 200 }, &registered)
}

fn events(req: Request, _: Params) -> Answer {
    let client = client(&req)?;
    let after = query_param(&req, "after");
    json(
        200,
        &subscriptions::feed(&store()?, &OutboundWebhook, &client, after.as_deref())?,
    )
}

fn deliveries(req: Request, _: Params) -> Answer {
    let client = client(&req)?;
    json(200, &subscriptions::deliveries(&store()?, &client)?)
}
