//! `credit-native-verify --listen ADDR --db FILE`: the verify-code handler built natively, for
//! `make bench`'s wasm/native ratio (docs/benchmarks.md).
//!
//! The same credit-core logic as the verify-code component (its settings read per request, the
//! visitor admitted within its rate limit, the lookup, the audit entry, the JSON answer) over
//! the host's own store (host/src/kv.rs, compiled in unchanged: the same SQLite thread and
//! group commit), behind the same hyper HTTP/1 server the host uses. What the ratio measures
//! is therefore what the component model adds: a fresh wasm instance per request, the calls
//! across the WIT boundary, and the code compiled to wasm.

#[path = "../../../../host/src/kv.rs"]
// Only what a verification uses of the host's store is called here.
#[allow(dead_code)]
mod kv;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use credit_core::config::VisitorSettings;
use credit_core::error::Error;
use credit_core::kv::{KeyValue, StoreError};
use credit_core::store::Limits;
use credit_core::usecase::Visitor;
use credit_core::usecase::verification::Verifier;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::runtime::Handle;

use kv::{Backend, SqliteKv};

/// As the component: a code, or a hundred of them, with room for whitespace.
const MAX_BODY_BYTES: usize = 16 * 1024;
const STORE: &str = "default";

#[tokio::main]
async fn main() -> Result<()> {
    let (listen, db) = arguments()?;
    let backend = Arc::new(Backend::Sqlite(SqliteKv::open(&db)?));
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    eprintln!(
        "credit-native-verify: POST http://{listen}/api/v1/verify/code over {}",
        db.display()
    );
    loop {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let store = Arc::new(NativeStore {
            backend: backend.clone(),
            runtime: Handle::current(),
        });
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(req, peer, store.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn arguments() -> Result<(String, PathBuf)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match &args[..] {
        [l, listen, d, db] if l == "--listen" && d == "--db" => Ok((listen.clone(), db.into())),
        _ => bail!("usage: credit-native-verify --listen 127.0.0.1:PORT --db FILE"),
    }
}

async fn answer(
    req: Request<Incoming>,
    peer: SocketAddr,
    store: Arc<NativeStore>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) =
        if req.method() != Method::POST || req.uri().path() != "/api/v1/verify/code" {
            problem(&Error::NotFound("没有这个接口".into()))
        } else {
            match Limited::new(req.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
            {
                Err(_) => problem(&Error::PayloadTooLarge {
                    limit: MAX_BODY_BYTES as u64,
                }),
                // The handler makes blocking store calls, as the component does: off the workers.
                Ok(body) => tokio::task::spawn_blocking(move || {
                    verify_code(&store, peer, &body.to_bytes()).unwrap_or_else(|e| problem(&e))
                })
                .await
                .unwrap_or_else(|_| problem(&Error::Internal("the handler panicked".into()))),
            }
        };
    let content_type = if status < 400 {
        "application/json; charset=utf-8"
    } else {
        "application/problem+json"
    };
    Ok(Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response"))
}

/// The component's handler, step by step.
fn verify_code(
    store: &NativeStore,
    peer: SocketAddr,
    body: &[u8],
) -> Result<(u16, Vec<u8>), Error> {
    let settings = VisitorSettings::from_lookup(variable)?;
    let visitor = Visitor {
        client: credit_core::client::client_of(Some(peer.ip()), None, &settings.trusted_proxies),
        now: chrono::Utc::now(),
    };
    let limits = Limits {
        per_client: settings.verify_rate_limit_per_minute,
        visitors: settings.verify_visitors_per_minute,
    };
    let verifier = Verifier::new(store, visitor, limits);
    let admission = verifier.admit(1)?;
    let body = serde_json::from_slice(body).map_err(|e| Error::InvalidJson(e.to_string()));
    let verification = verifier.code(&admission, body)?;
    let bytes = serde_json::to_vec(&verification)
        .map_err(|e| Error::Internal(format!("serialize answer: {e}")))?;
    Ok((200, bytes))
}

fn problem(error: &Error) -> (u16, Vec<u8>) {
    (error.status(), error.to_problem().to_string().into_bytes())
}

/// A setting as the host resolves it for the component: `SPIN_VARIABLE_<NAME>`.
fn variable(name: &str) -> Option<String> {
    std::env::var(format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())).ok()
}

/// The core's store port over the host's backend, each call awaited from the handler's thread.
struct NativeStore {
    backend: Arc<Backend>,
    runtime: Handle,
}

impl NativeStore {
    fn wait<T>(
        &self,
        operation: impl Future<Output = Result<T, kv::KvError>>,
    ) -> Result<T, StoreError> {
        self.runtime.block_on(operation).map_err(StoreError)
    }
}

impl KeyValue for NativeStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.wait(self.backend.get(STORE, key))
    }

    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let found = self.wait(self.backend.get_many(STORE, keys.to_vec()))?;
        Ok(found.into_iter().map(|(_, value)| value).collect())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.wait(self.backend.set(STORE, key, value.to_vec()))
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.wait(self.backend.delete(STORE, key))
    }

    fn set_many(&self, entries: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.wait(self.backend.set_many(STORE, entries.to_vec()))
    }

    fn delete_many(&self, keys: &[String]) -> Result<(), StoreError> {
        self.wait(self.backend.delete_many(STORE, keys.to_vec()))
    }

    fn exists(&self, key: &str) -> Result<bool, StoreError> {
        self.wait(self.backend.exists(STORE, key))
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.wait(self.backend.increment(STORE, key, delta))
    }

    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        self.wait(self.backend.compare_and_swap(STORE, key, expected, new))
    }
}
