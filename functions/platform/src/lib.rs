//! The Spin side of the core's ports, shared by every component.
//!
//! Components stay thin: they route with [`spin_sdk::http::Router`], read
//! the request with these helpers, call one `credit_core::usecase` function,
//! and answer. Every failure becomes problem+json in [`Problem`]'s one
//! `IntoResponse`. Nothing here holds state between requests.

pub mod cors;
mod kv;

use chrono::{DateTime, Utc};
use credit_core::codes::ReportNo;
use credit_core::config::{Settings, VisitorSettings};
use credit_core::error::Error;
use credit_core::pdf::sign::PublishedChain;
use credit_core::store::{Admission, Limits};
use credit_core::text::without_bom;
use credit_core::usecase::signin::{self, Credentials, HttpReply, ProviderHttp};
use credit_core::usecase::subscriptions::{self, ApiClient, WebhookSender};
use credit_core::usecase::verification::{Verifier, rate_limit_headers};
use credit_core::usecase::{Caller, Visitor};
use serde::Serialize;
use serde_json::Value;
use spin_sdk::http::{IntoResponse, Method, Params, Request, Response, Router};

pub use kv::SpinStore;

/// A handler's answer: a response, or the problem that stopped it.
pub type Answer = Result<Response, Problem>;

/// An error on its way to becoming an `application/problem+json` answer.
#[derive(Debug)]
pub struct Problem(pub Error);

impl From<Error> for Problem {
    fn from(error: Error) -> Self {
        Problem(error)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        problem(&self.0)
    }
}

/// The one place where failures become HTTP answers.
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

/// A verification's answer (or its problem) with the `RateLimit` and
/// `RateLimit-Policy` headers of the rate-limit state it was answered in.
pub fn with_headers(answer: Answer, headers: &[(&'static str, String)]) -> Response {
    let mut response = answer.unwrap_or_else(|problem| problem.into_response());
    for (name, value) in headers {
        response.set_header(*name, value.as_str());
    }
    response
}

/// A public verifier counted against its limits (`cost` verifications): the
/// verifier and its admission, or the refusal to answer (429 with its
/// `RateLimit` headers and `Retry-After`).
pub fn admit_verifier<'a>(
    kv: &'a SpinStore,
    visitor: Visitor,
    settings: &VisitorSettings,
    cost: u32,
) -> Result<(Verifier<'a, SpinStore>, Admission), Response> {
    let limits = Limits {
        per_client: settings.verify_rate_limit_per_minute,
        visitors: settings.verify_visitors_per_minute,
    };
    let verifier = Verifier::new(kv, visitor, limits);
    match verifier.admit(cost) {
        Ok(admission) => Ok((verifier, admission)),
        Err(error) => {
            let headers = error
                .retry_after()
                .map(|t| rate_limit_headers(limits.per_client, 0, t));
            Err(with_headers(
                Err(error.into()),
                headers.as_ref().map_or(&[][..], |h| &h[..]),
            ))
        }
    }
}

/// Completes a component's router: each of its `paths` answers other
/// methods with 405 and the methods it allows, and any other path with
/// problem+json 404 (the router's own answers are plain text).
pub fn refuse_the_rest(router: &mut Router, paths: &[(&'static str, &'static str)]) {
    for &(path, allowed) in paths {
        router.any(path, move |_: Request, _: Params| {
            Problem(Error::MethodNotAllowed {
                allowed: allowed.into(),
            })
        });
    }
    router.any("/*", |_: Request, _: Params| {
        Problem(Error::NotFound("没有这个接口".into()))
    });
}

/// Routes `req`, answering `HEAD` as `GET` would, headers only: the routes that answer HEAD are
/// the GET handlers also registered with `router.head`.
pub fn handle_with_head(router: &Router, req: Request) -> Response {
    let head = *req.method() == Method::Head;
    let mut response = router.handle(req);
    if head {
        response.body_mut().clear();
    }
    response
}

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

/// Every setting, from the Spin variables (each component that reads them
/// declares them all in spin.toml; a test checks it).
pub fn settings() -> Result<Settings, Error> {
    Settings::from_lookup(variable)
}

/// The three settings a public verification needs, without the rest.
pub fn visitor_settings() -> Result<VisitorSettings, Error> {
    VisitorSettings::from_lookup(variable)
}

/// The seal's certificate chain as configured, parsed only when needed:
/// readers check it, an uploaded report's seal is verified against it
/// (development seals only in development mode).
pub fn published_chain() -> Result<PublishedChain, Error> {
    PublishedChain::from_variables(variable, credit_core::config::development_mode(variable)?)
}

/// The session cookie: an opaque id, HttpOnly, Secure, SameSite=Strict.
pub const SESSION_COOKIE: &str = "credit_session";

/// The value of a request cookie.
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    header(req, "cookie")?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// The signed-in caller (bearer token or session cookie; 401 when missing
/// or invalid, 503 when no way of signing in is configured), where it
/// calls from, and now.
pub fn caller(req: &Request, settings: &Settings) -> Result<Caller, Error> {
    let now = now();
    let credentials = Credentials {
        authorization: header(req, "authorization"),
        session: cookie(req, SESSION_COOKIE),
    };
    let principal =
        signin::authenticate(&store()?, &OutboundHttp, &settings.auth, &credentials, now)?;
    Ok(Caller {
        principal,
        client: client_addr(req, settings),
        now,
    })
}

/// An API client's bearer token (any valid token; no role needed), where
/// it calls from, and now.
pub fn api_client(req: &Request, settings: &Settings) -> Result<ApiClient, Error> {
    let now = now();
    let sub = signin::authenticate_client(
        &store()?,
        &OutboundHttp,
        &settings.auth,
        header(req, "authorization"),
        now,
    )?;
    Ok(ApiClient {
        sub,
        client: client_addr(req, settings),
        now,
    })
}

/// Webhooks to relying parties through Spin outbound HTTP: only to the
/// callback hosts the component lists in `allowed_outbound_hosts`
/// (docs/integration.md); a refused host is a failed attempt in the
/// subscriber's delivery log.
pub struct OutboundWebhook;

/// How long a webhook receiver may take to connect, to answer and between
/// bytes: a receiver that accepts and never answers must not hold the
/// revoking request until its deadline (the feed has the event anyway).
const WEBHOOK_TIMEOUT_NS: u64 = 2_000_000_000;

impl WebhookSender for OutboundWebhook {
    fn post(&self, url: &str, headers: &[(&str, String)], body: &[u8]) -> Result<u16, String> {
        use spin_sdk::http::conversions::TryIntoOutgoingRequest;
        use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
        use spin_sdk::wit::wasi::http0_2_0::types::{OutgoingBody, RequestOptions};

        let mut request = Request::post(url, ());
        for (name, value) in headers {
            request.header(*name, value.as_str());
        }
        // spin-sdk's `send` takes no request options, so the request goes
        // through `wasi:http/outgoing-handler` directly, with timeouts.
        let (outgoing, _) = request
            .build()
            .try_into_outgoing_request()
            .map_err(|e| e.to_string())?;
        let options = RequestOptions::new();
        for set in [
            RequestOptions::set_connect_timeout,
            RequestOptions::set_first_byte_timeout,
            RequestOptions::set_between_bytes_timeout,
        ] {
            set(&options, Some(WEBHOOK_TIMEOUT_NS))
                .map_err(|()| "the host refuses request timeouts".to_owned())?;
        }
        let outgoing_body = outgoing
            .body()
            .map_err(|()| "request body taken".to_owned())?;
        let response =
            outgoing_handler::handle(outgoing, Some(options)).map_err(|e| format!("{e:?}"))?;
        {
            let stream = outgoing_body
                .write()
                .map_err(|()| "request body stream taken".to_owned())?;
            for chunk in body.chunks(4096) {
                stream
                    .blocking_write_and_flush(chunk)
                    .map_err(|e| format!("{e:?}"))?;
            }
        }
        OutgoingBody::finish(outgoing_body, None).map_err(|e| format!("{e:?}"))?;
        response.subscribe().block();
        let answer = response
            .get()
            .ok_or("no response")?
            .map_err(|()| "response taken".to_owned())?
            .map_err(|e| format!("{e:?}"))?;
        Ok(answer.status())
    }
}

/// After a revocation: the webhooks of the clients holding these reports.
/// Their feeds have the events already, so a failure here is logged and
/// never fails the request that revoked.
pub fn notify_holders(reports: &[ReportNo]) {
    if reports.is_empty() {
        return;
    }
    let sent =
        store().and_then(|kv| subscriptions::notify_holders(&kv, &OutboundWebhook, reports, now()));
    if let Err(error) = sent {
        eprintln!("webhooks after revocation: {}: {error}", error.code());
    }
}

/// The identity provider through Spin outbound HTTP (the component
/// declares the provider's origin in `allowed_outbound_hosts`).
pub struct OutboundHttp;

impl OutboundHttp {
    fn send(request: spin_sdk::http::Request) -> Result<HttpReply, String> {
        let response: Response =
            spin_sdk::http::run(spin_sdk::http::send(request)).map_err(|e| e.to_string())?;
        Ok(HttpReply {
            status: *response.status(),
            body: response.into_body(),
        })
    }
}

impl ProviderHttp for OutboundHttp {
    fn get(&self, url: &str) -> Result<HttpReply, String> {
        Self::send(
            Request::get(url)
                .header("accept", "application/json")
                .build(),
        )
    }

    fn post_form(&self, url: &str, authorization: &str, body: &str) -> Result<HttpReply, String> {
        Self::send(
            Request::post(url, body.to_owned())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .header("authorization", authorization)
                .build(),
        )
    }
}

/// An anonymous visitor: where it calls from, and now.
pub fn visitor(
    spin_client_addr: Option<&str>,
    forwarded_for: Option<&str>,
    settings: &VisitorSettings,
) -> Visitor {
    Visitor {
        client: client(spin_client_addr, forwarded_for, settings),
        now: now(),
    }
}

/// The request's client as rate limits and the audit count it.
pub fn client_addr(req: &Request, settings: &Settings) -> String {
    client(
        header(req, "spin-client-addr"),
        header(req, "x-forwarded-for"),
        &settings.visitors,
    )
}

/// The client as the core counts it, from the host's peer address
/// (`spin-client-addr`, with its port) and `X-Forwarded-For`.
fn client(
    spin_client_addr: Option<&str>,
    forwarded_for: Option<&str>,
    settings: &VisitorSettings,
) -> String {
    let peer = spin_client_addr.and_then(|addr| {
        addr.parse::<std::net::SocketAddr>()
            .map(|socket| socket.ip())
            .or_else(|_| addr.parse())
            .ok()
    });
    credit_core::client::client_of(peer, forwarded_for, &settings.trusted_proxies)
}

/// A JSON answer. A value that cannot be serialised is an internal error,
/// never an empty success.
pub fn json(status: u16, body: &impl Serialize) -> Answer {
    let bytes =
        serde_json::to_vec(body).map_err(|e| Error::Internal(format!("serialize answer: {e}")))?;
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .header("cache-control", "no-store")
        .body(bytes)
        .build())
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header(name).and_then(|value| value.as_str())
}

/// The media type of the body, lower-cased, without parameters.
pub fn content_type(req: &Request) -> Option<String> {
    header(req, "content-type")
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        // A blank header says no more than a missing one, and is read the same way.
        .filter(|media_type| !media_type.is_empty())
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

/// A JSON body of at most `limit` bytes; wrong media type → 415, bad JSON → 400.
pub fn json_body(req: &Request, limit: usize) -> Result<Value, Error> {
    let body = body_within(req, limit)?;
    match content_type(req).as_deref() {
        Some("application/json") | None => {}
        Some(other) => {
            return Err(Error::UnsupportedMediaType(format!(
                "{other}，请使用 application/json"
            )));
        }
    }
    serde_json::from_slice(without_bom(body)).map_err(|e| Error::from(&e))
}

/// As [`json_body`], with a blank body read as `{}` (some actions need no
/// fields).
pub fn json_body_or_empty(req: &Request, limit: usize) -> Result<Value, Error> {
    if body_within(req, limit)?.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    json_body(req, limit)
}

/// A query parameter, percent-decoded.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A route parameter the router captured, e.g. `id` of `/api/v1/records/:id`.
pub fn param<'a>(params: &'a Params, name: &str) -> &'a str {
    params.get(name).unwrap_or_default()
}

/// A listing's `?cursor=&limit=` (docs/api.md, "Paging").
pub fn page_request(req: &Request) -> Result<credit_core::paging::PageRequest, Problem> {
    Ok(credit_core::paging::PageRequest::parse(
        query_param(req, "cursor").as_deref(),
        query_param(req, "limit").as_deref(),
    )?)
}
