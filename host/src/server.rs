//! The HTTP side: route, bound, run a fresh instance per request, log one line.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::mpsc::Sender;
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use tokio::sync::Semaphore;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimitsBuilder, Trap, UpdateDeadline};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

use crate::body::{
    BodyFault, BodyWatch, MIN_BYTES_PER_WINDOW, PacedBody, RATE_WINDOW, ReadWhole, RequestBody,
    declared_small, read_whole,
};
use crate::components::{Components, LoadedComponent};
use crate::connections::RETRY_AFTER_SECS;
use crate::outbound::OutboundGate;
use crate::problem::HostProblem;
use crate::router::Router;
use crate::state::{MemoryTracker, RequestState};
use crate::test_clock::{PinnedWallClock, TEST_NOW_HEADER};

pub struct Limits {
    pub max_body_bytes: usize,
    pub memory_bytes: usize,
    pub deadline: Duration,
}

pub struct App {
    pub engine: Engine,
    pub components: Arc<Components>,
    pub router: Router,
    pub limits: Limits,
    /// Instances that may run at once (the pooling allocator's slots): a request waits here for
    /// one, up to its deadline, instead of failing when all are taken.
    pub instances: Arc<Semaphore>,
    /// The share of those instances that requests streaming a large body may hold (half):
    /// slow uploads never take the instances that verifications and JSON requests need.
    pub uploads: Arc<Semaphore>,
    /// `--test-clock`: requests may pin their instance's wall clock.
    pub test_clock: bool,
}

impl App {
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        client: SocketAddr,
    ) -> Result<Response<HyperOutgoingBody>, Infallible> {
        let log = RequestLog {
            started: Instant::now(),
            method: req.method().clone(),
            path: req.uri().path().to_owned(),
        };
        Ok(self.dispatch(req, client, log).await)
    }

    async fn dispatch(
        &self,
        req: Request<Incoming>,
        client: SocketAddr,
        log: RequestLog,
    ) -> Response<HyperOutgoingBody> {
        let Some(route) = self.router.route(req.uri().path()) else {
            let response = problem(
                StatusCode::NOT_FOUND,
                HostProblem::RouteNotFound,
                "未找到该地址",
            );
            log.write("-", response.status(), None, None);
            return response;
        };
        let component_id = self.components.id(route.component);
        let max_body = self.limits.max_body_bytes;

        let (mut parts, body) = req.into_parts();
        // Without --test-clock the header is passed on like any other.
        let requested_now = if self.test_clock {
            parts.headers.remove(TEST_NOW_HEADER)
        } else {
            None
        };
        let wall_clock = match requested_now.map(|v| PinnedWallClock::from_header(v.as_bytes())) {
            None => None,
            Some(Some(clock)) => Some(clock),
            Some(None) => {
                let response = problem(
                    StatusCode::BAD_REQUEST,
                    HostProblem::InvalidTestClock,
                    "测试时钟请求头应为 RFC 3339 时间",
                );
                log.write(component_id, response.status(), None, None);
                return response;
            }
        };
        // A declared length over the cap is refused before any instance runs.
        if body.size_hint().lower() > max_body as u64 {
            let response = body_too_large();
            log.write(
                component_id,
                response.status(),
                None,
                Some(format!("body over {max_body} bytes")),
            );
            return response;
        }

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
        // A small body is read whole before an instance is taken: a client that sends it slowly
        // holds its connection, not an instance. A large one streams into the component, which
        // reads it as it arrives and so can refuse an upload early.
        let small = declared_small(&body);
        let mut body = PacedBody::new(body);
        let read = if small {
            match read_whole(&mut body, max_body).await {
                ReadWhole::Read(frames) => frames,
                ReadWhole::Failed(fault) => {
                    let (response, note) = self.body_failure(fault);
                    log.write(component_id, response.status(), None, Some(note));
                    return response;
                }
            }
        } else {
            Default::default()
        };
        // Loaded by its first request, if the loader that goes through them all has not yet.
        let component = match self.components.get(route.component).await {
            Ok(component) => component,
            Err(e) => {
                let (response, note) = failure(RunError::Failed(e));
                log.write(component_id, response.status(), None, Some(note));
                return response;
            }
        };
        let streams = !body.is_end_stream();
        let watch = Arc::new(BodyWatch::default());
        let body = RequestBody::new(read, body, max_body, watch.clone(), self.limits.deadline);
        self.run(
            &component,
            Request::from_parts(parts, body),
            streams,
            wall_clock,
            watch,
            log,
        )
        .await
    }

    /// The host's answer to a body it stopped taking, and the note for the log.
    fn body_failure(&self, fault: BodyFault) -> (Response<HyperOutgoingBody>, String) {
        match fault {
            BodyFault::OverCap => (
                body_too_large(),
                format!("body over {} bytes", self.limits.max_body_bytes),
            ),
            BodyFault::TooSlow => {
                let mut response = problem(
                    StatusCode::REQUEST_TIMEOUT,
                    HostProblem::RequestTimeout,
                    "请求体发送过慢，连接已关闭",
                );
                response
                    .headers_mut()
                    .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
                let note = format!(
                    "body slower than {MIN_BYTES_PER_WINDOW} bytes per {}s",
                    RATE_WINDOW.as_secs()
                );
                (response, note)
            }
            BodyFault::Broken => {
                let mut response = problem(
                    StatusCode::BAD_REQUEST,
                    HostProblem::IncompleteBody,
                    "请求体不完整（在声明的长度之前中断，或分块编码有误），请求未被处理，请重新发送",
                );
                response
                    .headers_mut()
                    .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
                (
                    response,
                    "body broke off or had invalid chunked coding".into(),
                )
            }
        }
    }

    /// Runs a fresh instance on the request. The response is returned as soon as the component
    /// sets it; the log line is written once the instance has finished.
    async fn run<B>(
        &self,
        component: &LoadedComponent,
        req: Request<B>,
        streams: bool,
        wall_clock: Option<PinnedWallClock>,
        watch: Arc<BodyWatch>,
        log: RequestLog,
    ) -> Response<HyperOutgoingBody>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let waited_for = self.limits.deadline;
        let slots = tokio::time::timeout(waited_for, async {
            let upload = match streams {
                true => Some(self.uploads.clone().acquire_owned().await?),
                false => None,
            };
            let instance = self.instances.clone().acquire_owned().await?;
            Ok::<_, tokio::sync::AcquireError>((upload, instance))
        })
        .await;
        let Ok(Ok(slots)) = slots else {
            let response = server_busy();
            let note = format!("no instance free within {waited_for:?}");
            log.write(&component.id, response.status(), None, Some(note));
            return response;
        };
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stdout().inherit_stderr();
        if let Some(clock) = wall_clock {
            wasi.wall_clock(clock);
        }
        let state = RequestState {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            limits: MemoryTracker::new(
                StoreLimitsBuilder::new()
                    .memory_size(self.limits.memory_bytes)
                    .build(),
            ),
            scope: component.scope.clone(),
            outbound: OutboundGate(component.outbound.clone()),
            store_operations: 0,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        let allowed = self.limits.deadline;
        let deadline = Instant::now() + allowed;
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

        let (sender, mut receiver) = tokio::sync::oneshot::channel();
        let created = {
            let mut http = store.data_mut().http();
            http.new_incoming_request(Scheme::Http, req)
                .and_then(|req| Ok((req, http.new_response_outparam(sender)?)))
        };
        let (req, out) = match created {
            Ok(pair) => pair,
            Err(e) => {
                let (response, note) = failure(RunError::failed(e));
                log.write(&component.id, response.status(), None, Some(note));
                return response;
            }
        };
        let pre = component.pre.clone();
        let component_id = component.id.clone();
        // The answer's status reaches the instance's task, which writes the log line once the
        // instance has finished (its body sent): no second task per request.
        let (answered, status): (LogHandoff, _) = tokio::sync::oneshot::channel();
        let task = tokio::task::spawn(async move {
            // The epoch deadline stops a guest that computes; this one also stops a guest that
            // waits on the host (a slow upload, a client that does not read the response).
            let ran = tokio::time::timeout(allowed, async {
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, req, out)
                    .await
            })
            .await;
            let result = match ran {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
                    Err(RunError::Deadline)
                }
                Ok(Err(e)) => Err(RunError::failed(e)),
                Err(_elapsed) => Err(RunError::Deadline),
            };
            let usage = Usage {
                peak_memory: store.data().limits.peak(),
                store_operations: store.data().store_operations,
            };
            // The pool slot returns with the store; only then may a waiting request take it.
            drop(store);
            drop(slots);
            match status.await {
                Ok((log, status, note)) => {
                    let late_failure = result.err().map(|error| failure(error).1);
                    let note = match (note, late_failure) {
                        (Some(n), Some(f)) => Some(format!("{n}; after the response: {f}")),
                        (None, Some(f)) => Some(format!("after the response: {f}")),
                        (n, None) => n,
                    };
                    log.write(&component_id, status, Some(usage), note);
                    None
                }
                // No answer was made: the caller logs the failure it answers with.
                Err(_) => Some((result, usage)),
            }
        });

        let answered_by_component = tokio::select! {
            // The body's fault first: it is reported before the component sees its read fail,
            // so an answer the component made of that failure never wins over the host's.
            biased;
            fault = watch.failed() => {
                let (response, note) = self.body_failure(fault);
                return logged(answered, log, response, Some(note));
            }
            answered = &mut receiver => answered,
        };
        match answered_by_component {
            Ok(Ok(response)) => logged(answered, log, response, None),
            Ok(Err(code)) => {
                let (response, note) = failure(RunError::Failed(anyhow::anyhow!(
                    "component answered with error {code:?}"
                )));
                logged(answered, log, response, Some(note))
            }
            Err(_) => {
                drop(answered);
                let (result, usage) = match task.await {
                    Ok(Some(done)) => done,
                    Ok(None) => (
                        Err(RunError::Failed(anyhow::anyhow!(
                            "request task ended without its result"
                        ))),
                        Usage::default(),
                    ),
                    Err(join) => (
                        Err(RunError::Failed(anyhow::anyhow!(
                            "request task failed: {join}"
                        ))),
                        Usage::default(),
                    ),
                };
                let error = result.err().unwrap_or_else(|| {
                    RunError::Failed(anyhow::anyhow!("component never set a response"))
                });
                let (response, note) = failure(error);
                log.write(&component.id, response.status(), Some(usage), Some(note));
                response
            }
        }
    }
}

/// Request log lines go to stderr from one thread, which writes what has queued up at once: one
/// write per burst instead of one per request, and never on a request's path. Under load it then
/// pauses, so that lines queue up without waking it: one wake-up per pause, not per request.
static REQUEST_LOG: LazyLock<RequestLogWriter> = LazyLock::new(|| {
    let (sender, lines) = std::sync::mpsc::channel::<String>();
    let writer = std::thread::spawn(move || {
        let mut out = std::io::BufWriter::new(std::io::stderr());
        while let Ok(first) = lines.recv() {
            let mut queued = 0;
            let mut closing = first.is_empty();
            let _ = out.write_all(first.as_bytes());
            while let Ok(line) = lines.try_recv() {
                closing |= line.is_empty();
                let _ = out.write_all(line.as_bytes());
                queued += 1;
            }
            let _ = out.flush();
            if closing {
                return;
            }
            if queued > 0 {
                std::thread::sleep(LOG_PAUSE_UNDER_LOAD);
            }
        }
    });
    RequestLogWriter {
        lines: sender,
        thread: Mutex::new(Some(writer)),
    }
});

/// The queue of request log lines and the thread that writes them.
struct RequestLogWriter {
    lines: Sender<String>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// How long the log writer pauses after writing more than one line.
const LOG_PAUSE_UNDER_LOAD: Duration = Duration::from_millis(10);

/// Writes the request log lines still queued and stops the writer: at shutdown, so none is lost.
pub fn close_request_log() {
    // Lines end with a newline: an empty one is the writer's signal to finish.
    let _ = REQUEST_LOG.lines.send(String::new());
    let writer = REQUEST_LOG
        .thread
        .lock()
        .ok()
        .and_then(|mut writer| writer.take());
    if let Some(writer) = writer {
        let _ = writer.join();
    }
}

/// What one instance used, for the request log.
#[derive(Default, Clone, Copy)]
struct Usage {
    /// All linear memory of the instance at its largest, in bytes.
    peak_memory: usize,
    /// Key-value calls, each a round trip to the store.
    store_operations: usize,
}

/// The one line logged per request:
/// `METHOD PATH COMPONENT STATUS 12.3ms[ peak_memory=BYTES store_ops=N][ (NOTE)]`.
/// The time runs until the instance finished; `peak_memory` and `store_ops` are there
/// whenever an instance ran.
struct RequestLog {
    started: Instant,
    method: Method,
    path: String,
}

impl RequestLog {
    fn write(
        self,
        component: &str,
        status: StatusCode,
        usage: Option<Usage>,
        note: Option<String>,
    ) {
        let Self {
            started,
            method,
            path,
        } = self;
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        let usage = usage
            .map(|u| {
                format!(
                    " peak_memory={} store_ops={}",
                    u.peak_memory, u.store_operations
                )
            })
            .unwrap_or_default();
        // Errors carry line breaks (a trap's backtrace, a parser's byte dump): one line each.
        let note = note
            .map(|n| format!(" ({})", n.split_whitespace().collect::<Vec<_>>().join(" ")))
            .unwrap_or_default();
        let line = format!(
            "{method} {path} {component} {} {millis:.1}ms{usage}{note}\n",
            status.as_u16()
        );
        // The logger thread outlives every request: sending cannot fail.
        let _ = REQUEST_LOG.lines.send(line);
    }
}

/// The log line's request, status and note, handed to the instance's task.
type LogHandoff = tokio::sync::oneshot::Sender<(RequestLog, StatusCode, Option<String>)>;

/// The response, once its status and note are handed over for the log line.
fn logged(
    answered: LogHandoff,
    log: RequestLog,
    response: Response<HyperOutgoingBody>,
    note: Option<String>,
) -> Response<HyperOutgoingBody> {
    let _ = answered.send((log, response.status(), note));
    response
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

/// The host's answer when an instance failed before it answered, and the note for the log.
fn failure(error: RunError) -> (Response<HyperOutgoingBody>, String) {
    match error {
        RunError::Deadline => (
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                HostProblem::DeadlineExceeded,
                "请求处理超时",
            ),
            "stopped at the deadline".to_owned(),
        ),
        RunError::Failed(e) => (
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                HostProblem::ComponentFailed,
                "服务内部错误",
            ),
            format!("{e:#}"),
        ),
    }
}

fn body_too_large() -> Response<HyperOutgoingBody> {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        HostProblem::PayloadTooLarge,
        "请求体过大",
    )
}

/// No instance came free within the deadline.
fn server_busy() -> Response<HyperOutgoingBody> {
    let mut response = problem(
        StatusCode::SERVICE_UNAVAILABLE,
        HostProblem::ServerBusy,
        "服务繁忙，请稍后再试",
    );
    response.headers_mut().insert(
        http::header::RETRY_AFTER,
        HeaderValue::from(RETRY_AFTER_SECS),
    );
    response
}

/// An RFC 9457 problem response produced by the host itself.
fn problem(status: StatusCode, code: HostProblem, detail: &str) -> Response<HyperOutgoingBody> {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "code": code.code(),
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
