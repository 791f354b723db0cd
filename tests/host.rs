//! The local host, driven through the probe component (tests/probe, tests/probe/spin.toml).
//! Needs the release host and the probe component built (see the harness docs).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::DateTime;
use integration_tests::{HostOptions, RedisServer, Reply, TEST_NOW_HEADER, TestHost};
use serde_json::{Value, json};

fn probe() -> TestHost {
    TestHost::start(HostOptions::probe())
}

/// A manifest written for one test, serving the probe wasm.
fn manifest_with(dir: &tempfile::TempDir, body: &str) -> PathBuf {
    let path = dir.path().join("spin.toml");
    let text = format!(
        "spin_manifest_version = 2\n[application]\nname = \"t\"\nversion = \"0.1.0\"\n{body}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn ok_json(reply: Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

#[test]
fn routes_go_to_the_most_specific_component_with_spin_headers() {
    let host = probe();

    let exact = ok_json(host.get("/probe/exact"));
    assert_eq!(exact["component"], "exact");
    assert_eq!(exact["headers"]["spin-matched-route"], "/probe/exact");
    assert_eq!(exact["headers"]["spin-component-route"], "/probe/exact");
    assert_eq!(exact["headers"]["spin-path-info"], "");

    let wild = ok_json(host.get("/probe/a/b?x=1"));
    assert_eq!(wild["component"], "probe");
    let h = &wild["headers"];
    assert_eq!(h["spin-path-info"], "/a/b");
    assert_eq!(h["spin-full-url"], host.url("/probe/a/b?x=1"));
    assert_eq!(h["spin-matched-route"], "/probe/...");
    assert_eq!(h["spin-raw-component-route"], "/probe/...");
    assert_eq!(h["spin-component-route"], "/probe");
    assert_eq!(h["spin-base-path"], "/");
    assert!(
        h["spin-client-addr"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{h}"
    );

    let base = ok_json(host.get("/probe"));
    assert_eq!(
        (
            base["component"].as_str(),
            base["headers"]["spin-path-info"].as_str()
        ),
        (Some("probe"), Some(""))
    );

    let param = ok_json(host.get("/probe/items/42/detail"));
    assert_eq!(param["component"], "param");
    assert_eq!(param["headers"]["spin-path-match-item-id"], "42");
    assert_eq!(
        param["headers"]["spin-matched-route"],
        "/probe/items/:item_id/detail"
    );

    assert_eq!(
        ok_json(host.get("/probe/items/42/other"))["component"],
        "probe"
    );
    assert_eq!(
        ok_json(host.get("/elsewhere/deep"))["component"],
        "fallback"
    );
    assert_eq!(ok_json(host.get("/"))["component"], "fallback");
    // The request log is written once the instance has finished, after the answer.
    host.wait_for_log(|log| log.contains("GET /probe/exact exact 200"));
}

#[test]
fn a_path_without_route_is_404_problem_json() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with(
        &dir,
        "[[trigger.http]]\nroute = \"/only\"\ncomponent = \"p\"\n\
         [component.p]\nsource = \"target/wasm32-wasip2/component/probe.wasm\"\n",
    );
    let host = TestHost::start(HostOptions::new(manifest));
    assert_eq!(host.get("/only").status, 200);
    let missing = host.get("/only/not");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(missing.json()["code"], "ROUTE_NOT_FOUND");
}

#[test]
fn every_request_gets_a_fresh_instance() {
    let host = probe();
    for _ in 0..5 {
        assert_eq!(ok_json(host.get("/probe/x?op=count"))["count"], 1);
    }
}

/// Get, set, exists, keys, delete and the batch interface: the same for every backend.
fn exercise_key_value(host: &TestHost) {
    assert_eq!(
        ok_json(host.get("/probe/x?op=kv-get&key=k1"))["value"],
        Value::Null
    );
    ok_json(host.put("/probe/x?op=kv-set&key=k1", "text/plain", b"one"));
    ok_json(host.put("/probe/x?op=kv-set&key=k2", "text/plain", b"two"));
    assert_eq!(
        ok_json(host.get("/probe/x?op=kv-get&key=k1"))["value"],
        "one"
    );
    assert_eq!(
        ok_json(host.get("/probe/x?op=kv-exists&key=k2"))["exists"],
        true
    );
    let keys = ok_json(host.get("/probe/x?op=kv-keys"));
    let keys: BTreeSet<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(keys.contains("k1") && keys.contains("k2"), "{keys:?}");
    ok_json(host.delete("/probe/x?op=kv-delete&key=k1", None));
    assert_eq!(
        ok_json(host.get("/probe/x?op=kv-get&key=k1"))["value"],
        Value::Null
    );
    assert_eq!(
        ok_json(host.get("/probe/x?op=kv-exists&key=k1"))["exists"],
        false
    );

    let batch = ok_json(host.get("/probe/x?op=batch&keys=b1,b2,b3"));
    assert_eq!(
        batch["after_set"],
        json!({ "b1": "v-b1", "b2": "v-b2", "b3": "v-b3" })
    );
    let after_delete = batch["after_delete"].as_object().unwrap();
    assert!(after_delete.values().all(Value::is_null), "{batch}");

    assert_eq!(
        ok_json(host.get("/probe/x?op=incr&key=c&delta=5"))["value"],
        5
    );
    assert_eq!(
        ok_json(host.get("/probe/x?op=incr&key=c&delta=-2"))["value"],
        3
    );
}

/// 16 threads at once; returns every value the operation answered.
fn hammer(host: &TestHost, path: &str, per_writer: usize) -> Vec<i64> {
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    (0..per_writer)
                        .map(|_| ok_json(host.get(path))["value"].as_i64().unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

/// Atomic increment and compare-and-swap (on a key that does not exist yet) lose no update.
fn exercise_atomics(host: &TestHost) {
    let mut seen = hammer(host, "/probe/x?op=incr&key=hits", 20);
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=320).collect::<Vec<i64>>(),
        "every increment returns a distinct value"
    );

    let mut seen = hammer(host, "/probe/x?op=cas-incr&key=json-counter", 10);
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=160).collect::<Vec<i64>>(),
        "every swap saw the value before it"
    );
    assert_eq!(
        ok_json(host.get("/probe/x?op=kv-get&key=json-counter"))["value"],
        r#"{"n":160}"#
    );
}

#[test]
fn key_value_operations_on_sqlite() {
    exercise_key_value(&probe());
}

#[test]
fn atomics_lose_no_update_under_16_writers_on_sqlite() {
    exercise_atomics(&probe());
}

/// Concurrent writes share the SQLite thread's commits (group commit): every answered write
/// lands and stays after a restart, and a write that fails (incrementing a value that is no
/// counter) fails alone, undoing none of the writes committed with it.
#[test]
fn concurrent_writers_all_land_and_a_failing_one_fails_alone_on_sqlite() {
    let mut host = probe();
    ok_json(host.put(
        "/probe/x?op=kv-set&key=not-a-counter",
        "text/plain",
        b"text",
    ));
    std::thread::scope(|s| {
        for writer in 0..16 {
            let host = &host;
            s.spawn(move || {
                for n in 0..20 {
                    let key = format!("w{writer:02}-{n:02}");
                    let path = format!("/probe/x?op=kv-set&key={key}");
                    ok_json(host.put(&path, "text/plain", key.as_bytes()));
                    if n % 4 == 0 {
                        let refused = host.get("/probe/x?op=incr&key=not-a-counter");
                        assert_eq!(refused.status, 500, "{}", refused.text());
                    }
                }
            });
        }
    });
    host.restart();
    let keys = ok_json(host.get("/probe/x?op=kv-keys"))["keys"].clone();
    let written: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|k| k.starts_with('w'))
        .collect();
    assert_eq!(written.len(), 16 * 20, "{keys}");
    for key in ["w00-00", "w07-13", "w15-19"] {
        assert_eq!(
            ok_json(host.get(&format!("/probe/x?op=kv-get&key={key}")))["value"],
            key
        );
    }
    assert_eq!(
        ok_json(host.get("/probe/x?op=kv-get&key=not-a-counter"))["value"],
        "text"
    );
}

#[test]
fn key_value_data_survives_a_restart_in_spins_sqlite_file() {
    let mut host = probe();
    ok_json(host.put("/probe/x?op=kv-set&key=kept", "text/plain", b"still here"));
    assert_eq!(
        ok_json(host.get("/probe/x?op=incr&key=n&delta=7"))["value"],
        7
    );
    host.restart();
    assert_eq!(
        ok_json(host.get("/probe/x?op=kv-get&key=kept"))["value"],
        "still here"
    );
    assert_eq!(
        ok_json(host.get("/probe/x?op=incr&key=n&delta=1"))["value"],
        8
    );

    // The file is Spin's: same path, table, store column and little-endian counters.
    let db = rusqlite::Connection::open(host.state_dir().join("sqlite_key_value.db")).unwrap();
    let value: Vec<u8> = db
        .query_row(
            "SELECT value FROM spin_key_value WHERE store = 'default' AND key = 'kept'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(value, b"still here");
    let counter: Vec<u8> = db
        .query_row(
            "SELECT value FROM spin_key_value WHERE store = 'default' AND key = 'n'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(counter, 8i64.to_le_bytes());
}

#[test]
fn a_store_the_component_did_not_declare_is_refused() {
    let host = probe();
    let undeclared = ok_json(host.get("/probe/x?op=open-store&label=secret"));
    assert_eq!(
        undeclared,
        json!({ "spin": "Error::AccessDenied", "wasi": "Error::AccessDenied" })
    );
    // `param` declares no store at all.
    let none = ok_json(host.get("/probe/items/1/detail?op=open-store&label=default"));
    assert_eq!(
        none,
        json!({ "spin": "Error::AccessDenied", "wasi": "Error::AccessDenied" })
    );
    assert_eq!(
        ok_json(host.get("/probe/x?op=open-store&label=default"))["spin"],
        "ok"
    );
}

#[test]
fn a_runaway_component_gets_a_500_at_the_deadline_while_others_are_served() {
    let deadline = Duration::from_secs(3);
    let host = TestHost::start(HostOptions::probe().deadline(deadline));
    std::thread::scope(|s| {
        let runaway = s.spawn(|| {
            let sent = Instant::now();
            (host.get("/probe/x?op=loop&mark=runaway"), sent.elapsed())
        });
        // The runaway marks itself running before it loops: requests answered after the mark
        // is seen and before the runaway's answer were served beside it.
        while ok_json(host.get("/probe/x?op=kv-get&key=runaway"))["value"] != "running" {
            assert!(!runaway.is_finished(), "the runaway ended before it ran");
        }
        let mut served_beside = 0;
        while !runaway.is_finished() {
            assert_eq!(ok_json(host.get("/probe/x?op=echo"))["component"], "probe");
            served_beside += 1;
        }
        assert!(
            served_beside > 0,
            "nothing was served while the runaway ran"
        );
        let (reply, took) = runaway.join().unwrap();
        assert_eq!(reply.status, 500, "{}", reply.text());
        assert_eq!(reply.json()["code"], "DEADLINE_EXCEEDED");
        // Never stopped early; the upper bound only catches a deadline that is not enforced.
        assert!(
            took >= deadline && took < deadline * 10,
            "answered after {took:?}"
        );
    });
    host.wait_for_log(|log| log.contains("stopped at the deadline"));
    assert_eq!(ok_json(host.get("/probe/x?op=count"))["count"], 1);
}

#[test]
fn with_the_test_clock_a_request_sets_the_wall_clock_its_instance_reads() {
    let host = TestHost::start(HostOptions::probe().test_clock());
    let pinned = DateTime::parse_from_rfc3339("2026-03-02T09:00:00+08:00").unwrap();
    let seen = ok_json(host.at(pinned).get("/probe/x?op=clock"));
    assert_eq!(seen["unix_millis"], 1_772_413_200_000_u64, "{seen}");
    assert_eq!(
        seen["test_now_header"],
        Value::Null,
        "the host consumes the header"
    );

    let (before, seen, after) = around_real_clock(|| host.get("/probe/x?op=clock"));
    assert!(
        (before..=after).contains(&seen),
        "without the header, the real clock"
    );

    let refused = host.request(
        "GET",
        "/probe/x?op=clock",
        &[(TEST_NOW_HEADER, "yesterday")],
        &[],
    );
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert_eq!(refused.json()["code"], "INVALID_TEST_CLOCK");
}

#[test]
fn without_the_test_clock_the_header_changes_nothing() {
    let host = probe();
    let header = "2026-03-02T09:00:00+08:00";
    let mut passed_on = Value::Null;
    let (before, seen, after) = around_real_clock(|| {
        let reply = host.request(
            "GET",
            "/probe/x?op=clock",
            &[(TEST_NOW_HEADER, header)],
            &[],
        );
        passed_on = reply.json()["test_now_header"].clone();
        reply
    });
    assert!((before..=after).contains(&seen), "the real clock");
    assert_eq!(passed_on, header, "an ordinary header");
}

/// The wall clock the probe read during `request`, between two readings of the test's own.
fn around_real_clock(request: impl FnOnce() -> Reply) -> (u128, u128, u128) {
    let unix_millis = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis()
    };
    let before = unix_millis();
    let seen = ok_json(request())["unix_millis"].as_u64().unwrap();
    (before, u128::from(seen), unix_millis())
}

#[test]
fn memory_and_body_are_bounded() {
    let host = TestHost::start(HostOptions::probe().max_body_bytes(1024));
    assert_eq!(
        ok_json(host.get("/probe/x?op=alloc&mib=16"))["allocated"],
        true
    );
    assert_eq!(
        ok_json(host.get("/probe/x?op=alloc&mib=200"))["allocated"],
        false
    );
    // The log line (written once the instance has finished) gives its peak linear memory.
    let peak = |log: &str| -> Option<u64> {
        log.lines()
            .filter(|l| l.starts_with("GET /probe/x probe 200 "))
            .filter_map(|l| {
                l.split_once(" peak_memory=")?
                    .1
                    .split(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .max()
    };
    // Earlier requests' lines are there too: wait for the allocating one's.
    let log = host.wait_for_log(|log| peak(log).is_some_and(|p| p >= 16 << 20));
    let peak = peak(&log).unwrap();
    assert!(
        (16 << 20..64 << 20).contains(&peak),
        "peak {peak} after allocating 16 MiB:\n{}",
        host.log()
    );

    assert_eq!(
        ok_json(host.post("/probe/x?op=body", "application/octet-stream", &[7; 1024]))["len"],
        1024
    );
    let too_big = host.post("/probe/x?op=body", "application/octet-stream", &[7; 1025]);
    assert_eq!(too_big.status, 413);
    assert_eq!(too_big.json()["code"], "PAYLOAD_TOO_LARGE");
}

/// The log line counts the instance's store operations: each key-value call is one round trip.
#[test]
fn the_request_log_counts_store_operations() {
    let host = probe();
    ok_json(host.get("/probe/x?op=kv-get&key=counted"));
    // set-many, get-many, delete-many, get-many.
    ok_json(host.get("/probe/x?op=batch&keys=c1,c2,c3"));
    ok_json(host.get("/probe/x?op=count"));
    // The log names the path without its query, and a line is written when its instance has
    // finished, so the three lines are told apart by their counts.
    let ops = |log: &str| -> Vec<u32> {
        let mut ops: Vec<u32> = log
            .lines()
            .filter(|l| l.starts_with("GET /probe/x probe 200 "))
            .filter_map(|l| {
                l.split_once(" store_ops=")?
                    .1
                    .split(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        ops.sort();
        ops
    };
    let log = host.wait_for_log(|log| ops(log).len() == 3);
    assert_eq!(ops(&log), [0, 1, 4], "{log}");
}

#[test]
fn variables_come_from_the_manifest_and_the_environment() {
    let host = probe();
    assert_eq!(
        ok_json(host.get("/probe/x?op=var&name=greeting"))["value"],
        "hello, blue!"
    );
    assert_eq!(
        ok_json(host.get("/probe/x?op=var&name=component_name"))["value"],
        "probe"
    );
    let undeclared = ok_json(host.get("/probe/x?op=var&name=colour"));
    assert!(
        undeclared["error"].as_str().unwrap().contains("Undefined"),
        "{undeclared}"
    );
    drop(host);

    let host = TestHost::start(HostOptions::probe().variable("colour", "red"));
    assert_eq!(
        ok_json(host.get("/probe/x?op=var&name=greeting"))["value"],
        "hello, red!"
    );
}

#[test]
fn a_required_variable_without_value_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with(
        &dir,
        "[variables]\napi_key = { required = true }\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"p\"\n\
         [component.p]\nsource = \"target/wasm32-wasip2/component/probe.wasm\"\n\
         [component.p.variables]\ncomponent_name = \"{{ api_key }}\"\n",
    );
    let log = TestHost::try_start(HostOptions::new(&manifest))
        .err()
        .expect("the host must refuse to start");
    assert!(log.contains("SPIN_VARIABLE_API_KEY"), "{log}");

    let host = TestHost::start(HostOptions::new(&manifest).variable("api_key", "k-1"));
    assert_eq!(ok_json(host.get("/x"))["component"], "k-1");
}

/// The host listens before it has loaded its components: a request loads the one it needs, and
/// a loader goes through the rest. A component that cannot be loaded still stops the host,
/// naming it, as it stopped the start when every component was loaded first.
#[test]
fn components_load_after_the_host_listens_and_a_broken_one_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let routes = "[[trigger.http]]\nroute = \"/a/...\"\ncomponent = \"a\"\n\
                  [[trigger.http]]\nroute = \"/b/...\"\ncomponent = \"b\"\n\
                  [component.a]\nsource = \"target/wasm32-wasip2/component/probe.wasm\"\n";
    let manifest = manifest_with(
        &dir,
        &format!("{routes}[component.b]\nsource = \"target/wasm32-wasip2/component/probe.wasm\"\n"),
    );
    let host = TestHost::start(HostOptions::new(&manifest));
    ok_json(host.get("/b/x?op=echo"));
    host.wait_for_log(|log| log.contains("all 2 components loaded"));
    drop(host);

    std::fs::write(dir.path().join("broken.wasm"), b"not a component").unwrap();
    let manifest = manifest_with(
        &dir,
        &format!("{routes}[component.b]\nsource = \"broken.wasm\"\n"),
    );
    let host = TestHost::start(HostOptions::new(&manifest));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !host.log().contains("Error: component b") {
        assert!(
            Instant::now() < deadline,
            "the host did not stop:\n{}",
            host.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // What the host writes as it exits.
    let log = host.log();
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("compiling"), "{log}");
}

#[test]
fn key_value_and_atomics_on_redis() {
    let redis = RedisServer::start();
    let mut host = TestHost::start(HostOptions::probe().runtime_config(redis.runtime_config()));
    exercise_key_value(&host);
    exercise_atomics(&host);
    ok_json(host.put("/probe/x?op=kv-set&key=kept", "text/plain", b"in redis"));
    host.restart();
    assert_eq!(
        ok_json(host.get("/probe/x?op=kv-get&key=kept"))["value"],
        "in redis"
    );
    assert!(
        !host.state_dir().join("sqlite_key_value.db").exists(),
        "the default store must not fall back to SQLite"
    );
}
