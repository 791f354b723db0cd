//! The HTTP side: route, bound, run a fresh instance per request, log one line.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimitsBuilder, Trap, UpdateDeadline};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

use crate::router::Router;
use crate::spin_api::ComponentScope;
use crate::state::RequestState;

pub struct Limits {
    pub max_body_bytes: usize,
    pub memory_bytes: usize,
    pub deadline: Duration,
}

pub struct LoadedComponent {
    pub id: String,
    pub pre: ProxyPre<RequestState>,
    pub scope: Arc<ComponentScope>,
}

pub struct App {
    pub engine: Engine,
    pub components: Vec<LoadedComponent>,
    pub router: Router,
    pub limits: Limits,
}

/// The outcome of one request, for the log line.
struct Outcome {
    component: String,
    response: Response<HyperOutgoingBody>,
    note: Option<String>,
}

impl App {
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        client: SocketAddr,
    ) -> Result<Response<HyperOutgoingBody>, Infallible> {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let outcome = self.dispatch(req, client).await;
        let note = outcome.note.map(|n| format!(" ({n})")).unwrap_or_default();
        eprintln!(
            "{method} {path} {} {} {:.1}ms{note}",
            outcome.component,
            outcome.response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
        Ok(outcome.response)
    }

    async fn dispatch(&self, req: Request<Incoming>, client: SocketAddr) -> Outcome {
        let Some(route) = self.router.route(req.uri().path()) else {
            return Outcome {
                component: "-".to_owned(),
                response: problem(StatusCode::NOT_FOUND, "ROUTE_NOT_FOUND", "未找到该地址"),
                note: None,
            };
        };
        let component = &self.components[route.component];
        let outcome = |response, note: Option<String>| Outcome {
            component: component.id.clone(),
            response,
            note,
        };

        let (mut parts, body) = req.into_parts();
        let body = match Limited::new(body, self.limits.max_body_bytes)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                let response = problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    "请求体过大",
                );
                return outcome(
                    response,
                    Some(format!("body over {} bytes", self.limits.max_body_bytes)),
                );
            }
            Err(e) => {
                let response = problem(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST_BODY",
                    "请求体读取失败",
                );
                return outcome(response, Some(format!("reading body: {e}")));
            }
        };

        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_owned();
        if !parts.headers.contains_key(http::header::HOST) {
            parts
                .headers
                .insert(http::header::HOST, HeaderValue::from_static("localhost"));
        }
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        for (name, value) in route.spin_headers("http", &host, path_and_query, client) {
            if let (Ok(name), Ok(value)) =
                (HeaderName::try_from(name), HeaderValue::try_from(value))
            {
                parts.headers.insert(name, value);
            }
        }
        let body = Full::new(body)
            .map_err(|never: Infallible| -> wasmtime_wasi_http::Error { match never {} });
        let req = Request::from_parts(parts, body);

        match self.run(component, req).await {
            Ok(response) => outcome(response, None),
            Err(RunError::Deadline) => outcome(
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "DEADLINE_EXCEEDED",
                    "请求处理超时",
                ),
                Some(format!(
                    "stopped after the {} ms deadline",
                    self.limits.deadline.as_millis()
                )),
            ),
            Err(RunError::Failed(e)) => outcome(
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "COMPONENT_FAILED",
                    "服务内部错误",
                ),
                Some(format!("{e:#}")),
            ),
        }
    }

    async fn run<B>(
        &self,
        component: &LoadedComponent,
        req: Request<B>,
    ) -> Result<Response<HyperOutgoingBody>, RunError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let state = RequestState {
            table: ResourceTable::new(),
            wasi: WasiCtx::builder().inherit_stdout().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(self.limits.memory_bytes)
                .build(),
            scope: component.scope.clone(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        let deadline = Instant::now() + self.limits.deadline;
        // Checked on every epoch tick: yield so a busy guest never starves the other requests,
        // and stop it at the deadline.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });

        let (sender, receiver) = tokio::sync::oneshot::channel();
        let (req, out) = {
            let mut http = store.data_mut().http();
            let req = http
                .new_incoming_request(Scheme::Http, req)
                .map_err(RunError::failed)?;
            let out = http
                .new_response_outparam(sender)
                .map_err(RunError::failed)?;
            (req, out)
        };
        let pre = component.pre.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, req, out)
                .await
        });

        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => Err(RunError::Failed(anyhow::anyhow!(
                "component answered with error {code:?}"
            ))),
            Err(_) => match task.await {
                Ok(Ok(())) => Err(RunError::Failed(anyhow::anyhow!(
                    "component never set a response"
                ))),
                Ok(Err(e)) if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
                    Err(RunError::Deadline)
                }
                Ok(Err(e)) => Err(RunError::failed(e)),
                Err(join) => Err(RunError::Failed(anyhow::anyhow!(
                    "request task failed: {join}"
                ))),
            },
        }
    }
}

enum RunError {
    Deadline,
    Failed(anyhow::Error),
}

impl RunError {
    fn failed(e: wasmtime::Error) -> Self {
        RunError::Failed(anyhow::anyhow!("{e:?}"))
    }
}

/// An RFC 9457 problem response produced by the host itself.
fn problem(status: StatusCode, code: &str, detail: &str) -> Response<HyperOutgoingBody> {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "code": code,
        "detail": detail,
    })
    .to_string();
    let body = Full::new(Bytes::from(body))
        .map_err(|never: Infallible| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}
