//! Public catalog and the OpenAPI document: `GET /api/v1/catalog`,
//! `GET /api/v1/openapi.json`.

use credit_core::catalog_document::catalog_document;
use platform::Answer;
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

/// The contract of every endpoint, kept beside the code that serves it and
/// checked against spin.toml's routes and docs/api.md by the tests.
const OPENAPI: &str = include_str!("../openapi.json");

/// Both change only with a deployment.
const CACHE_CONTROL: &str = "public, max-age=300";

#[http_component]
fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.get("/api/v1/catalog", serve_catalog);
    router.get("/api/v1/openapi.json", serve_openapi);
    platform::refuse_the_rest(
        &mut router,
        &[("/api/v1/catalog", "GET"), ("/api/v1/openapi.json", "GET")],
    );
    router.handle(req)
}

fn serve_catalog(_: Request, _: Params) -> Answer {
    let mut response = platform::json(200, &catalog_document())?;
    response.set_header("cache-control", CACHE_CONTROL);
    Ok(response)
}

fn serve_openapi(_: Request, _: Params) -> Answer {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json; charset=utf-8")
        .header("cache-control", CACHE_CONTROL)
        .body(OPENAPI)
        .build())
}
