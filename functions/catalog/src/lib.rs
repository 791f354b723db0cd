//! Public catalog and the OpenAPI document: GET /api/v1/catalog, /api/v1/openapi.json.

use credit_core::catalog_document::catalog_document;
use credit_core::error::Error;
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

/// The contract of every endpoint, kept beside the code that serves it and
/// checked against spin.toml's routes by the integration tests.
const OPENAPI: &str = include_str!("../openapi.json");

#[http_component]
fn handle(req: Request) -> Response {
    platform::respond(|| {
        if !matches!(req.method(), Method::Get | Method::Head) {
            return Err(Error::MethodNotAllowed {
                allowed: "GET".into(),
            });
        }
        let mut response = match req.path() {
            "/api/v1/openapi.json" => Response::builder()
                .status(200)
                .header("content-type", "application/json; charset=utf-8")
                .body(OPENAPI)
                .build(),
            _ => platform::json(200, &catalog_document()),
        };
        // The catalog changes only with a deployment.
        response.set_header("cache-control", "public, max-age=300");
        Ok(response)
    })
}
