//! Public verification by code: POST /api/v1/verify/code and /api/v1/verify/batch.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn handle(_req: Request) -> anyhow::Result<impl IntoResponse> {
    Ok(Response::builder()
        .status(501)
        .header("content-type", "application/problem+json")
        .body(r#"{"type":"about:blank","title":"Not Implemented","status":501,"code":"NOT_IMPLEMENTED","detail":"该功能尚未开放"}"#)
        .build())
}
