//! The Spin side of the core's ports, shared by every component.
//!
//! Components stay thin: they read the request with these helpers, call
//! `credit_core`, and answer through [`respond`]. Nothing here holds state
//! between requests.

mod kv;

use chrono::{DateTime, Utc};
use credit_core::auth::{self, Principal};
use credit_core::config::RuleConfig;
use credit_core::error::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use spin_sdk::http::{Request, Response};

pub use kv::SpinStore;

/// The request's clock reading; the core takes time only as a parameter.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The default key-value store, or a 503 problem when it cannot be opened.
pub fn store() -> Result<SpinStore, Error> {
    SpinStore::open_default().map_err(Error::from)
}

/// A Spin variable this component declared, `None` when it is unset.
pub fn variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name).ok()
}

/// A whole-number variable of at least `min`: `default` when unset or empty,
/// `INVALID_CONFIG` when malformed. Reads only this one variable.
pub fn number_variable(name: &str, default: u32, min: u32) -> Result<u32, Error> {
    let Some(value) = variable(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    match value.trim().parse::<u32>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(Error::InvalidConfig {
            variable: name.to_owned(),
            detail: format!("“{value}”应为不小于 {min} 的整数"),
        }),
    }
}

/// The rules and limits from the Spin variables this component declared.
pub fn rules() -> Result<RuleConfig, Error> {
    RuleConfig::from_lookup(variable)
}

/// The caller, from the bearer token: 401 when missing or invalid.
pub fn principal(req: &Request, now: DateTime<Utc>) -> Result<Principal, Error> {
    let secret = variable("jwt_secret").ok_or_else(|| Error::InvalidConfig {
        variable: "jwt_secret".into(),
        detail: "未配置".into(),
    })?;
    auth::verify_bearer(header(req, "authorization"), secret.as_bytes(), now)
}

/// Runs a handler and turns its error, if any, into problem+json: the one
/// place where failures become HTTP answers.
pub fn respond(handler: impl FnOnce() -> Result<Response, Error>) -> Response {
    handler().unwrap_or_else(|error| problem(&error))
}

pub fn problem(error: &Error) -> Response {
    if error.status() >= 500 {
        eprintln!("error {}: {error:?}", error.code());
    }
    let mut builder = Response::builder();
    builder
        .status(error.status())
        .header("content-type", "application/problem+json")
        .header("cache-control", "no-store");
    if let Some(seconds) = error.retry_after() {
        builder.header("retry-after", seconds.to_string());
    }
    if let Error::MethodNotAllowed { allowed } = error {
        builder.header("allow", allowed.as_str());
    }
    builder.body(error.to_problem().to_string()).build()
}

pub fn json(status: u16, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .header("cache-control", "no-store")
        .body(bytes)
        .build()
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header(name).and_then(|value| value.as_str())
}

/// The media type of the body, lower-cased, without parameters.
pub fn content_type(req: &Request) -> Option<String> {
    header(req, "content-type").map(|value| {
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

/// The body, or `PAYLOAD_TOO_LARGE` when it is longer than `limit` bytes.
pub fn body_within(req: &Request, limit: usize) -> Result<&[u8], Error> {
    let body = req.body();
    if body.len() > limit {
        return Err(Error::PayloadTooLarge {
            limit: limit as u64,
        });
    }
    Ok(body)
}

/// The route the request matched, without a trailing `/...`, e.g.
/// `/api/v1/records` for `/api/v1/records/...`: lets a component serving
/// several routes dispatch without parsing the URI.
pub fn component_route(req: &Request) -> String {
    header(req, "spin-component-route")
        .unwrap_or_default()
        .to_owned()
}

/// A JSON body of the expected shape; wrong media type → 415, bad JSON → 400.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, Error> {
    match content_type(req).as_deref() {
        Some("application/json") | None => {}
        Some(other) => {
            return Err(Error::UnsupportedMediaType(format!(
                "{other}，请使用 application/json"
            )));
        }
    }
    serde_json::from_slice(req.body()).map_err(|e| Error::InvalidJson(e.to_string()))
}

/// The caller's address as the host reports it (`spin-client-addr`), without the port.
pub fn client_addr(req: &Request) -> String {
    client_ip(header(req, "spin-client-addr"))
}

/// The address part of a `spin-client-addr` value (for handlers that take
/// the streaming request type).
pub fn client_ip(spin_client_addr: Option<&str>) -> String {
    let addr = spin_client_addr.unwrap_or("unknown");
    match addr.parse::<std::net::SocketAddr>() {
        Ok(socket) => socket.ip().to_string(),
        Err(_) => addr.to_owned(),
    }
}

/// A named route parameter, e.g. `report_no` of `/api/v1/reports/:report_no/pdf`.
pub fn path_param(req: &Request, name: &str) -> Option<String> {
    header(req, &format!("spin-path-match-{name}")).map(str::to_owned)
}

/// The path below the component's wildcard route (`spin-path-info`), e.g.
/// `/RPT-1` for `/api/v1/reports/RPT-1` on route `/api/v1/reports/...`.
pub fn path_info(req: &Request) -> String {
    header(req, "spin-path-info").unwrap_or_default().to_owned()
}

/// Query parameters, percent-decoded.
pub fn query(req: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(req.query().as_bytes())
        .into_owned()
        .collect()
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    query(req)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}
