//! Public catalog (with this deployment's guide figures), the OpenAPI document and the seal's certificate chain:
//! `GET /api/v1/catalog`, `GET /api/v1/openapi.json`,
//! `GET /api/v1/seal/certificates`.

use credit_core::catalog_document::served_catalog;
use credit_core::pdf::sign::CERTIFICATES_PATH;
use credit_core::record::schema;
use platform::Answer;
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

/// The contract of every endpoint, kept beside the code that serves it and
/// checked against spin.toml's routes and docs/api.md by the tests. The
/// record schemas per kind are added from the core's field table when served.
const OPENAPI: &str = include_str!("../openapi.json");

/// All three change only with a deployment.
const CACHE_CONTROL: &str = "public, max-age=300";

type Handler = fn(Request, Params) -> Answer;

#[http_component]
fn handle(req: Request) -> Response {
    let mut router = Router::new();
    let served: [(&'static str, Handler); 3] = [
        ("/api/v1/catalog", serve_catalog),
        ("/api/v1/openapi.json", serve_openapi),
        (CERTIFICATES_PATH, serve_certificates),
    ];
    for (path, serve) in served {
        router.get(path, serve);
        router.head(path, serve);
    }
    platform::refuse_the_rest(&mut router, &served.map(|(path, _)| (path, "GET, HEAD")));
    platform::handle_with_head(&router, req)
}

fn serve_catalog(_: Request, _: Params) -> Answer {
    let mut response = platform::json(200, &served_catalog(&platform::settings()?))?;
    response.set_header("cache-control", CACHE_CONTROL);
    Ok(response)
}

fn serve_openapi(_: Request, _: Params) -> Answer {
    let mut response = platform::json(200, &schema::openapi_document(OPENAPI)?)?;
    response.set_header("cache-control", CACHE_CONTROL);
    Ok(response)
}

/// The chain readers check the seal against, seal certificate first; the
/// same secret variable the verify-file component trusts.
fn serve_certificates(_: Request, _: Params) -> Answer {
    let certificates = platform::published_chain()?.certificates()?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/pem-certificate-chain")
        .header("cache-control", CACHE_CONTROL)
        .body(certificates.to_pem().to_owned())
        .build())
}
