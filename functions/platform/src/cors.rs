//! Cross-origin access to public verification, in one place.
//!
//! `/api/v1/verify/*` is public: any web page may call it from the browser
//! (the embeddable `<credit-report-verify>` element, a tender platform's own
//! page), so those answers carry `Access-Control-Allow-Origin: *` and their
//! preflight is answered. Credentials are never allowed: the verification
//! endpoints read none. Authenticated endpoints grant nothing — their
//! preflight gets the ordinary 405 without CORS headers, so a browser on
//! another origin never sends a token there.

use spin_sdk::http::{Method, Response};

/// Headers a cross-origin page may read: the rate limit it is under.
const EXPOSED_HEADERS: &str = "RateLimit, RateLimit-Policy, Retry-After";
/// Browsers cap this (Chromium at two hours); the grant never changes.
const PREFLIGHT_MAX_AGE_SECONDS: &str = "7200";

/// Whether the request is a CORS preflight (or any `OPTIONS`: the public
/// endpoints answer every one the same).
pub fn is_preflight(method: &Method) -> bool {
    *method == Method::Options
}

/// The answer to a preflight of a public verification endpoint.
pub fn preflight() -> Response {
    let mut response = Response::builder()
        .status(204)
        .header("access-control-allow-methods", "POST, OPTIONS")
        .header("access-control-allow-headers", "content-type")
        .header("access-control-max-age", PREFLIGHT_MAX_AGE_SECONDS)
        .header("cache-control", "no-store")
        .build();
    allow_any_origin(&mut response);
    response
}

/// Lets a page of any origin read this public answer (problems included).
pub fn allow_any_origin(response: &mut Response) {
    response.set_header("access-control-allow-origin", "*");
    response.set_header("access-control-expose-headers", EXPOSED_HEADERS);
}
