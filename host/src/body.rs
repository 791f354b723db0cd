//! Request bodies as the host takes them from a client: at a minimum rate, under a cap, and
//! (small ones) read whole before an instance is taken for them.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::sync::Notify;
use tokio::time::Sleep;

/// A body declared this small (every JSON request) is read whole before an instance is taken:
/// a client that sends it slowly holds a connection, never an instance. A larger body streams
/// into its instance, so that the component can refuse an upload from its head or first bytes.
pub const WHOLE_BODY_BYTES: u64 = 16 * 1024;
/// The minimum body rate: while the host waits for body bytes, every `RATE_WINDOW` of waiting
/// must bring at least `MIN_BYTES_PER_WINDOW` of them (1 KiB/s), or the body is cut off. A
/// client that trickles a byte a second is cut after 5 s; time a component spends computing
/// instead of reading is not waiting and does not count.
pub const RATE_WINDOW: Duration = Duration::from_secs(5);
pub const MIN_BYTES_PER_WINDOW: u64 = 5 * 1024;

/// Why the host stopped taking a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFault {
    /// More bytes than the host's cap.
    OverCap,
    /// Slower than the minimum rate.
    TooSlow,
    /// Ended before its declared length, or not valid chunked coding: what arrived is not the
    /// request the client meant, so no component acts on it.
    Broken,
}

/// Tells the host awaiting a component's answer that the body it is reading failed, and why.
#[derive(Default)]
pub struct BodyWatch {
    fault: OnceLock<BodyFault>,
    notify: Notify,
}

impl BodyWatch {
    fn report(&self, fault: BodyFault) {
        if self.fault.set(fault).is_ok() {
            self.notify.notify_one();
        }
    }

    /// Resolves once the body failed, with the reason.
    pub async fn failed(&self) -> BodyFault {
        loop {
            if let Some(fault) = self.fault.get() {
                return *fault;
            }
            self.notify.notified().await;
        }
    }
}

/// The client's body, held to the minimum rate.
pub struct PacedBody {
    inner: Incoming,
    /// Waiting time and bytes of the current rate window.
    waited: Duration,
    received: u64,
    /// Set while a poll found no data.
    waiting_since: Option<Instant>,
    window_end: Pin<Box<Sleep>>,
}

pub enum PacedError {
    /// hyper's error reading the body: it ended early or its chunked coding was invalid.
    Broken,
    TooSlow,
}

impl PacedBody {
    pub fn new(inner: Incoming) -> Self {
        Self {
            inner,
            waited: Duration::ZERO,
            received: 0,
            waiting_since: None,
            window_end: Box::pin(tokio::time::sleep(RATE_WINDOW)),
        }
    }

    /// Closes the window once `RATE_WINDOW` of waiting has passed: fails if it brought too
    /// little, or starts the next one.
    fn close_window_if_due(&mut self, now: Instant) -> Result<(), PacedError> {
        let waited = self.waited + self.waiting_since.map_or(Duration::ZERO, |s| now - s);
        if waited < RATE_WINDOW {
            return Ok(());
        }
        if self.received < MIN_BYTES_PER_WINDOW {
            return Err(PacedError::TooSlow);
        }
        self.waited = Duration::ZERO;
        self.received = 0;
        self.waiting_since = self.waiting_since.map(|_| now);
        Ok(())
    }
}

impl Body for PacedBody {
    type Data = Bytes;
    type Error = PacedError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, PacedError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let now = Instant::now();
                if let Some(since) = this.waiting_since.take() {
                    this.waited += now - since;
                }
                if let Some(Ok(frame)) = &frame {
                    this.received += frame.data_ref().map_or(0, |d| d.len() as u64);
                }
                if let Err(e) = this.close_window_if_due(now) {
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(frame.map(|f| f.map_err(|_| PacedError::Broken)))
            }
            Poll::Pending => loop {
                let now = Instant::now();
                if let Err(e) = this.close_window_if_due(now) {
                    return Poll::Ready(Some(Err(e)));
                }
                let since = *this.waiting_since.get_or_insert(now);
                let due = since + (RATE_WINDOW - this.waited);
                if this.window_end.deadline() != due.into() {
                    this.window_end.as_mut().reset(due.into());
                }
                ready!(this.window_end.as_mut().poll(cx));
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What reading a small body found.
pub enum ReadWhole {
    /// All its frames.
    Read(VecDeque<Frame<Bytes>>),
    Failed(BodyFault),
}

/// Whether the body is declared small enough to be read whole first.
pub fn declared_small(body: &Incoming) -> bool {
    body.size_hint()
        .upper()
        .is_some_and(|bytes| bytes <= WHOLE_BODY_BYTES)
}

/// Reads a body declared small until it ends, under the cap and the rate.
pub async fn read_whole(body: &mut PacedBody, max_body: usize) -> ReadWhole {
    let mut frames = VecDeque::new();
    let mut read = 0;
    while !body.is_end_stream() {
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => {
                read += frame.data_ref().map_or(0, Bytes::len);
                if read > max_body {
                    return ReadWhole::Failed(BodyFault::OverCap);
                }
                frames.push_back(frame);
            }
            Some(Err(PacedError::TooSlow)) => return ReadWhole::Failed(BodyFault::TooSlow),
            Some(Err(PacedError::Broken)) => return ReadWhole::Failed(BodyFault::Broken),
        }
    }
    ReadWhole::Read(frames)
}

/// The request body as the component sees it: what was read whole, or all of it streamed,
/// ending in an error past the cap, below the minimum rate or where the client's body broke off
/// (and telling the `BodyWatch`, so the host answers 413, 408 or 400 if the component has not
/// answered yet).
pub struct RequestBody {
    read: VecDeque<Frame<Bytes>>,
    inner: Option<PacedBody>,
    /// Bytes still allowed under the cap.
    left: usize,
    max: usize,
    watch: Arc<BodyWatch>,
    /// How long the rest of a body the component did not read is drained.
    drain_for: Duration,
}

impl RequestBody {
    pub fn new(
        read: VecDeque<Frame<Bytes>>,
        rest: PacedBody,
        max: usize,
        watch: Arc<BodyWatch>,
        drain_for: Duration,
    ) -> Self {
        let already: usize = read
            .iter()
            .map(|f| f.data_ref().map_or(0, Bytes::len))
            .sum();
        Self {
            read,
            inner: Some(rest),
            left: max.saturating_sub(already),
            max,
            watch,
            drain_for,
        }
    }

    fn fail(&mut self, fault: BodyFault) -> wasmtime_wasi_http::Error {
        // Dropping the body makes hyper close the connection after the answer.
        self.inner = None;
        self.watch.report(fault);
        match fault {
            BodyFault::OverCap => {
                wasmtime_wasi_http::Error::HttpRequestBodySize(Some(self.max as u64))
            }
            BodyFault::TooSlow => wasmtime_wasi_http::Error::ConnectionReadTimeout,
            BodyFault::Broken => wasmtime_wasi_http::Error::HttpProtocolError,
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Some(frame) = this.read.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        Poll::Ready(match ready!(Pin::new(inner).poll_frame(cx)) {
            Some(Ok(frame)) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                if len > this.left {
                    Some(Err(this.fail(BodyFault::OverCap)))
                } else {
                    this.left -= len;
                    Some(Ok(frame))
                }
            }
            Some(Err(PacedError::TooSlow)) => Some(Err(this.fail(BodyFault::TooSlow))),
            Some(Err(PacedError::Broken)) => Some(Err(this.fail(BodyFault::Broken))),
            None => None,
        })
    }

    fn is_end_stream(&self) -> bool {
        self.read.is_empty() && self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let read: u64 = self
            .read
            .iter()
            .map(|f| f.data_ref().map_or(0, |d| d.len() as u64))
            .sum();
        let rest = self
            .inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint);
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + read);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + read);
        }
        hint
    }
}

impl Drop for RequestBody {
    /// A component that answered without reading the whole body (a refused upload): most
    /// clients send the whole body before they read the answer, so the rest is read and
    /// discarded (within the cap, the minimum rate and the time) instead of resetting the
    /// connection under them.
    fn drop(&mut self) {
        let Some(mut body) = self.inner.take() else {
            return;
        };
        if body.is_end_stream() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (mut left, drain_for) = (self.left, self.drain_for);
        runtime.spawn(async move {
            let _ = tokio::time::timeout(drain_for, async {
                while let Some(Ok(frame)) = body.frame().await {
                    let len = frame.data_ref().map_or(0, Bytes::len);
                    if len > left {
                        break;
                    }
                    left -= len;
                }
            })
            .await;
        });
    }
}
