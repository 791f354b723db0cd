//! Test-only component driven by tests/host.rs: every answer reports what the host gave it.
//! The operation comes from the `op` query parameter so that any route can run any operation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store as wasi_store};

/// Lives as long as the instance: a fresh instance per request always counts 1.
static REQUESTS_SEEN: AtomicU32 = AtomicU32::new(0);

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let params = query_params(req.query());
    let param = |name: &str| params.get(name).cloned().unwrap_or_default();
    let answer = match param("op").as_str() {
        "" | "echo" => Ok(echo(&req)),
        "count" => Ok(json!({ "count": REQUESTS_SEEN.fetch_add(1, Ordering::SeqCst) + 1 })),
        "kv-set" => Store::open_default()
            .and_then(|s| s.set(&param("key"), req.body()))
            .map(|()| json!({ "ok": true })),
        "kv-get" => Store::open_default()
            .and_then(|s| s.get(&param("key")))
            .map(|v| match v {
                Some(bytes) => json!({ "value": String::from_utf8_lossy(&bytes) }),
                None => json!({ "value": null }),
            }),
        "kv-delete" => Store::open_default()
            .and_then(|s| s.delete(&param("key")))
            .map(|()| json!({ "ok": true })),
        "kv-exists" => Store::open_default()
            .and_then(|s| s.exists(&param("key")))
            .map(|e| json!({ "exists": e })),
        "kv-keys" => Store::open_default()
            .and_then(|s| s.get_keys())
            .map(|k| json!({ "keys": k })),
        "incr" => return wasi_increment(&param("key"), param("delta").parse().unwrap_or(1)),
        "cas-incr" => return cas_increment(&param("key")),
        "batch" => return batch_roundtrip(&param("keys")),
        "open-store" => Ok(open_store(&param("label"))),
        "var" => Ok(match spin_sdk::variables::get(&param("name")) {
            Ok(value) => json!({ "value": value }),
            Err(e) => json!({ "error": format!("{e:?}") }),
        }),
        "loop" => spin_forever(&param("mark")),
        "clock" => Ok(clock(&req)),
        "alloc" => Ok(allocate_mib(param("mib").parse().unwrap_or(0))),
        "body" => Ok(json!({ "len": req.body().len() })),
        "outbound" => Ok(outbound(&param("url"))),
        other => {
            return Ok(reply(
                400,
                json!({ "error": format!("unknown op {other:?}") }),
            ));
        }
    };
    Ok(match answer {
        Ok(body) => reply(200, body),
        Err(e) => reply(500, json!({ "error": format!("{e:?}") })),
    })
}

fn reply(status: u16, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

fn query_params(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect()
}

fn echo(req: &Request) -> Value {
    let spin_headers: BTreeMap<&str, String> = req
        .headers()
        .filter(|(name, _)| name.starts_with("spin-"))
        .map(|(name, value)| (name, value.as_str().unwrap_or_default().to_owned()))
        .collect();
    json!({
        "component": spin_sdk::variables::get("component_name").unwrap_or_default(),
        "method": req.method().to_string(),
        "path": req.path(),
        "headers": spin_headers,
    })
}

/// The wall clock the instance reads, and the test-clock header if the host passed it on.
fn clock(req: &Request) -> Value {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    json!({
        "unix_millis": since_epoch.as_millis() as u64,
        "test_now_header": req.header("x-credit-test-now").and_then(|v| v.as_str()),
    })
}

fn wasi_increment(key: &str, delta: i64) -> anyhow::Result<Response> {
    let bucket = wasi_store::open("default").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let value = atomics::increment(&bucket, key, delta).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(reply(200, json!({ "value": value })))
}

/// Read-modify-write of a JSON counter `{"n": N}` through compare-and-swap, retrying on conflict.
fn cas_increment(key: &str) -> anyhow::Result<Response> {
    let bucket = wasi_store::open("default").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut cas = atomics::Cas::new(&bucket, key).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    for attempt in 1..=1000 {
        let current = cas.current().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let n = match current {
            Some(bytes) => serde_json::from_slice::<Value>(&bytes)?["n"]
                .as_i64()
                .unwrap_or(0),
            None => 0,
        };
        let next = json!({ "n": n + 1 }).to_string();
        match atomics::swap(cas, next.as_bytes()) {
            Ok(()) => return Ok(reply(200, json!({ "value": n + 1, "attempts": attempt }))),
            Err(atomics::CasError::CasFailed(again)) => cas = again,
            Err(atomics::CasError::StoreError(e)) => anyhow::bail!("{e:?}"),
        }
    }
    anyhow::bail!("compare-and-swap kept failing")
}

/// set-many, get-many, delete-many, get-many on the given comma-separated keys.
fn batch_roundtrip(keys: &str) -> anyhow::Result<Response> {
    let err = |e: wasi_store::Error| anyhow::anyhow!("{e:?}");
    let bucket = wasi_store::open("default").map_err(err)?;
    let keys: Vec<String> = keys
        .split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    let entries: Vec<(String, Vec<u8>)> = keys
        .iter()
        .map(|k| (k.clone(), format!("v-{k}").into_bytes()))
        .collect();
    batch::set_many(&bucket, &entries).map_err(err)?;
    let as_json = |found: Vec<(String, Option<Vec<u8>>)>| -> Value {
        found
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.map(|b| Value::from(String::from_utf8_lossy(&b).into_owned()))
                        .unwrap_or(Value::Null),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let after_set = as_json(batch::get_many(&bucket, &keys).map_err(err)?);
    batch::delete_many(&bucket, &keys).map_err(err)?;
    let after_delete = as_json(batch::get_many(&bucket, &keys).map_err(err)?);
    Ok(reply(
        200,
        json!({ "after_set": after_set, "after_delete": after_delete }),
    ))
}

/// Opens `label` through both key-value interfaces and reports each outcome.
fn open_store(label: &str) -> Value {
    let spin = match Store::open(label) {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("{e:?}"),
    };
    let wasi = match wasi_store::open(label) {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("{e:?}"),
    };
    json!({ "spin": spin, "wasi": wasi })
}

/// Computes until the host stops the instance; with a `mark`, first sets that key, so a test
/// knows the instance is running.
fn spin_forever(mark: &str) -> ! {
    if !mark.is_empty() {
        let _ = Store::open_default().and_then(|s| s.set(mark, b"running"));
    }
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

/// GET `url` from inside the component: the status, or the error the host gave.
fn outbound(url: &str) -> Value {
    let request = Request::get(url).build();
    match spin_sdk::http::run(spin_sdk::http::send::<_, Response>(request)) {
        Ok(response) => json!({ "status": *response.status() }),
        Err(e) => json!({ "error": format!("{e:?}") }),
    }
}

fn allocate_mib(mib: usize) -> Value {
    let mut buffer: Vec<u8> = Vec::new();
    if buffer.try_reserve_exact(mib * 1024 * 1024).is_err() {
        return json!({ "allocated": false });
    }
    buffer.resize(mib * 1024 * 1024, 1);
    json!({ "allocated": std::hint::black_box(&buffer).len() == mib * 1024 * 1024 })
}
