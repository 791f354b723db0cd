//! The host's public surface under abuse: slow and idle clients, connection floods, instances
//! all taken; and what a component may reach: outbound HTTP only where the manifest allows it,
//! bounded keys and values, a private module cache. Needs the release host, the components and
//! the probe built (see the harness docs).

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use integration_tests::fixtures::{
    credit_code, days_ago, issue_report, records_of, store_all, tax_department, tax_penalty,
};
use integration_tests::{HostOptions, Reply, TestHost};
use serde_json::{Value, json};
use socket2::{Domain, Socket, Type};

/// Idle sockets and trickling connections of the slow-client test.
const IDLE_SOCKETS: usize = 2_000;
const TRICKLING_HEADS: usize = 150;
const TRICKLING_BODIES: usize = 150;
/// Loopback addresses the abusive connections come from: 23 connections each, under the
/// per-client cap, so that the host has to bear them all rather than refuse them.
const ABUSIVE_ADDRESSES: u8 = 100;
/// How long the host may take to notice and drop every slow or idle connection: the header
/// timeout of the test's host (20 s) with a wide margin. A bound on a hang only.
const RELEASE_BOUND: Duration = Duration::from_secs(60);

fn ok_json(reply: Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// A connection to the host from `source`, a loopback address of the test's choice.
fn connect_from(source: Ipv4Addr, port: u16) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    socket
        .bind(&SocketAddr::from((source, 0)).into())
        .unwrap_or_else(|e| panic!("binding {source}: {e}"));
    socket
        .connect(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into())
        .unwrap_or_else(|e| panic!("connecting from {source}: {e}"));
    socket.into()
}

fn abusive_address(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 1, 1 + (i % usize::from(ABUSIVE_ADDRESSES)) as u8)
}

/// The sockets the host process has open (its listener, its clients, its outbound requests).
fn open_sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("reading the host's /proc/<pid>/fd")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

/// Waits until `done` holds, checking every 50 ms, for at most `bound`; panics with `what`.
fn wait_until(bound: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < bound, "{what} not within {bound:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the host holds `wanted` sockets (`at_least`: or more, else: or fewer).
fn wait_for_sockets(pid: u32, at_least: bool, wanted: usize, what: &str) {
    let started = Instant::now();
    loop {
        let seen = open_sockets(pid);
        if (at_least && seen >= wanted) || (!at_least && seen <= wanted) {
            return;
        }
        assert!(
            started.elapsed() < RELEASE_BOUND,
            "{what}: the host holds {seen} sockets, not {wanted}, after {RELEASE_BOUND:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads what the host sent before closing: its answer, if any. The host closed the socket
/// when this returns; the timeout only bounds a test that would otherwise hang.
fn read_until_closed(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the host kept the connection open: {e}"),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Writes one byte a second to every stream until `stop`, or until the host closed them all.
fn trickle(streams: &mut [(TcpStream, &[u8], usize)], stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let mut open = 0;
        for (stream, text, sent) in streams.iter_mut() {
            if *sent < text.len() && stream.write_all(&text[*sent..*sent + 1]).is_ok() {
                *sent += 1;
                open += 1;
            } else {
                *sent = text.len();
            }
        }
        if open == 0 {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn slow_and_idle_clients_do_not_keep_a_verification_waiting_and_are_released() {
    // The test holds 2,300 sockets itself.
    rlimit::increase_nofile_limit(8_192).expect("raising the open-file limit");
    // Opening 2,300 connections takes seconds on a busy machine: a header timeout longer than
    // that (the default is 10 s) has the host hold them all at once.
    let host =
        TestHost::start(HostOptions::product().env("CREDIT_HOST_HEADER_READ_TIMEOUT_MS", "20000"));
    let report = issue_report(&host, &credit_code(93, 1));
    let code = report["verification_code"].as_str().unwrap().to_owned();
    let verify = || {
        let sent = Instant::now();
        let reply = host.post_json("/api/v1/verify/code", &json!({ "code": code }), None);
        (sent.elapsed(), reply)
    };
    assert_eq!(ok_json(verify().1)["outcome"], "VALID");
    let pid = host.pid();
    let baseline = open_sockets(pid);

    // Idle sockets first, slow bodies last: the host drops slow bodies after 5 s and the rest
    // after 20 s, so all are held at once when the last one has opened.
    let opened = Instant::now();
    let mut idle: Vec<TcpStream> = (0..IDLE_SOCKETS)
        .map(|i| connect_from(abusive_address(i), host.port()))
        .collect();
    let head: &[u8] = b"GET /api/v1/catalog HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: */*\r\nuser-agent: slow\r\n\r\n";
    let mut heads: Vec<(TcpStream, &[u8], usize)> = (0..TRICKLING_HEADS)
        .map(|i| {
            (
                connect_from(abusive_address(IDLE_SOCKETS + i), host.port()),
                head,
                0,
            )
        })
        .collect();
    let body = vec![b' '; 1000];
    let mut bodies: Vec<(TcpStream, &[u8], usize)> = (0..TRICKLING_BODIES)
        .map(|i| {
            let from = abusive_address(IDLE_SOCKETS + TRICKLING_HEADS + i);
            let mut stream = connect_from(from, host.port());
            let post = format!(
                "POST /api/v1/verify/code HTTP/1.1\r\nhost: 127.0.0.1\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(post.as_bytes()).unwrap();
            (stream, body.as_slice(), 0)
        })
        .collect();
    eprintln!(
        "opened the slow and idle connections in {:?}",
        opened.elapsed()
    );

    let stop = AtomicBool::new(false);
    let (answered, released_after) = std::thread::scope(|s| {
        let (head_writer, body_writer) = (&mut heads, &mut bodies);
        let stop = &stop;
        s.spawn(move || trickle(head_writer, stop));
        s.spawn(move || trickle(body_writer, stop));

        let abusive = TRICKLING_HEADS + TRICKLING_BODIES + IDLE_SOCKETS;
        wait_for_sockets(pid, true, baseline + abusive, "accepting every connection");
        // Meanwhile, verification is answered at once, again and again.
        let answered: Vec<Duration> = (0..5)
            .map(|_| {
                let (took, reply) = verify();
                assert_eq!(ok_json(reply)["outcome"], "VALID");
                took
            })
            .collect();
        wait_for_sockets(
            pid,
            false,
            baseline,
            "releasing the slow and idle connections",
        );
        let released_after = opened.elapsed();
        stop.store(true, Ordering::SeqCst);
        (answered, released_after)
    });
    for took in &answered {
        assert!(
            *took < Duration::from_secs(1),
            "a verification took {took:?}"
        );
    }
    eprintln!(
        "{abusive} slow or idle connections; verifications answered in {answered:?}; all released {released_after:?} after they opened",
        abusive = TRICKLING_HEADS + TRICKLING_BODIES + IDLE_SOCKETS
    );

    // The host closed them itself: idle ones and slow heads without an answer, slow bodies with
    // a 408.
    for stream in &mut idle {
        assert_eq!(read_until_closed(stream), "");
    }
    for (stream, _, _) in &mut heads {
        assert_eq!(read_until_closed(stream), "");
    }
    for (stream, _, _) in &mut bodies {
        let answer = read_until_closed(stream);
        assert!(
            answer.starts_with("HTTP/1.1 408") && answer.contains("REQUEST_TIMEOUT"),
            "{answer}"
        );
    }
    assert_eq!(ok_json(verify().1)["outcome"], "VALID");
}

/// Sends `head` and then `body`, closes the sending side (the body ends there, whatever its
/// head declared) and returns what the host answered.
fn send_raw(port: u16, head: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    read_until_closed(&mut stream)
}

#[test]
fn a_body_that_breaks_off_is_refused_and_nothing_in_it_is_acted_on() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(61, 1);
    let record = tax_penalty(&uscc, "永税罚〔2026〕61号", days_ago(30), "general");
    let records = serde_json::to_vec(&json!([record])).unwrap();
    let refused = |answer: &str| {
        assert!(
            answer.starts_with("HTTP/1.1 400") && answer.contains("\"code\":\"INCOMPLETE_BODY\""),
            "{answer}"
        );
    };

    // A department's batch cut short of its Content-Length: small bodies are read whole first.
    let head = |length: usize| {
        format!(
            "PUT /api/v1/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
            tax_department()
        )
    };
    refused(&send_raw(
        host.port(),
        &head(records.len()),
        &records[..records.len() - 8],
    ));
    // The same batch as CSV over the streaming threshold (16 KiB), cut short.
    let csv = format!("统一社会信用代码,备注\n{uscc},{}\n", "长".repeat(8_000));
    refused(&send_raw(
        host.port(),
        &head(csv.len()).replace("application/json", "text/csv"),
        &csv.as_bytes()[..csv.len() - 100],
    ));
    assert_eq!(
        records_of(&host, &uscc),
        Vec::<Value>::new(),
        "nothing stored"
    );

    // Chunked coding that is not chunked coding.
    let verify = "POST /api/v1/verify/code HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                  Transfer-Encoding: chunked\r\n\r\n";
    let answer = send_raw(host.port(), verify, b"ZZ\r\n{\"code\":\r\n0\r\n\r\n");
    refused(&answer);
    assert!(answer.contains("application/problem+json"), "{answer}");

    // The whole batch, sent as declared, is stored.
    store_all(&host, &tax_department(), &[record]);
    assert_eq!(records_of(&host, &uscc).len(), 1);
}

#[test]
fn connections_over_the_per_client_cap_get_a_503_while_other_clients_are_served() {
    let host =
        TestHost::start(HostOptions::probe().env("CREDIT_HOST_MAX_CONNECTIONS_PER_CLIENT", "4"));
    let crowd = Ipv4Addr::new(127, 0, 2, 1);
    let held: Vec<TcpStream> = (0..4).map(|_| connect_from(crowd, host.port())).collect();
    let mut over = connect_from(crowd, host.port());
    let answer = read_until_closed(&mut over);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("\"code\":\"SERVER_BUSY\""), "{answer}");
    assert_eq!(ok_json(host.get("/probe/x?op=echo"))["component"], "probe");

    // A freed place is taken again.
    drop(held);
    wait_until(
        RELEASE_BOUND,
        "a place freed for the crowd's address",
        || {
            let mut stream = connect_from(crowd, host.port());
            stream
                .write_all(
                    b"GET /probe/x?op=count HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
                )
                .unwrap();
            read_until_closed(&mut stream).starts_with("HTTP/1.1 200")
        },
    );
    host.wait_for_log(|log| log.contains("over the cap"));
}

#[test]
fn connections_over_the_total_cap_get_a_503() {
    let host = TestHost::start(HostOptions::probe().env("CREDIT_HOST_MAX_CONNECTIONS", "8"));
    let held: Vec<TcpStream> = (0..8)
        .map(|i| connect_from(abusive_address(i), host.port()))
        .collect();
    let mut over = connect_from(Ipv4Addr::new(127, 0, 3, 1), host.port());
    let answer = read_until_closed(&mut over);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop(held);
    wait_until(
        RELEASE_BOUND,
        "the held connections freeing their places",
        || {
            let mut stream = connect_from(Ipv4Addr::LOCALHOST, host.port());
            stream
                .write_all(
                    b"GET /probe/x?op=count HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
                )
                .unwrap();
            read_until_closed(&mut stream).starts_with("HTTP/1.1 200")
        },
    );
}

/// Whether the probe marked `key` in the host's SQLite file: read beside the host, since with
/// every instance taken no request could read it.
fn marked(host: &TestHost, key: &str) -> bool {
    let Ok(db) = rusqlite::Connection::open(host.state_dir().join("sqlite_key_value.db")) else {
        return false;
    };
    db.query_row(
        "SELECT 1 FROM spin_key_value WHERE store = 'default' AND key = ?1",
        [key],
        |_| Ok(()),
    )
    .is_ok()
}

#[test]
fn with_every_instance_taken_a_request_waits_for_one_instead_of_failing() {
    let host = TestHost::start(
        HostOptions::probe()
            .deadline(Duration::from_secs(3))
            .env("CREDIT_HOST_MAX_INSTANCES", "2"),
    );
    std::thread::scope(|s| {
        let runaways: Vec<_> = ["runaway-1", "runaway-2"]
            .into_iter()
            .map(|mark| {
                let host = &host;
                s.spawn(move || host.get(&format!("/probe/x?op=loop&mark={mark}")))
            })
            .collect();
        wait_until(RELEASE_BOUND, "both runaways running", || {
            marked(&host, "runaway-1") && marked(&host, "runaway-2")
        });
        // Both instances are taken: this request waits for one, then is served.
        assert_eq!(ok_json(host.get("/probe/x?op=echo"))["component"], "probe");
        for runaway in runaways {
            assert_eq!(runaway.join().unwrap().json()["code"], "DEADLINE_EXCEEDED");
        }
    });
}

#[test]
fn slow_uploads_hold_at_most_half_of_the_instances() {
    let host = TestHost::start(HostOptions::probe().env("CREDIT_HOST_MAX_INSTANCES", "2"));
    // Two uploads declared large stream into their instance, and stall after their first
    // bytes: the first holds the uploads' share (one instance of two), the second waits for it.
    let mut uploads: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", host.port())).unwrap();
            stream
                .write_all(b"POST /probe/x?op=body HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000\r\n\r\nslow")
                .unwrap();
            stream
        })
        .collect();
    // Requests without a large body still find an instance, before the uploads are answered.
    for _ in 0..3 {
        assert_eq!(ok_json(host.get("/probe/x?op=echo"))["component"], "probe");
    }
    for upload in &mut uploads {
        upload.set_nonblocking(true).unwrap();
        let unanswered =
            matches!(upload.read(&mut [0u8; 1]), Err(e) if e.kind() == ErrorKind::WouldBlock);
        assert!(
            unanswered,
            "an upload was answered before the requests beside it"
        );
        upload.set_nonblocking(false).unwrap();
    }
    // Then the host cuts each slow upload off.
    for upload in &mut uploads {
        let answer = read_until_closed(upload);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}

/// A tiny HTTP server on a free port: answers every request 200 and counts them.
struct Upstream {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Upstream {
    fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                counter.fetch_add(1, Ordering::SeqCst);
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            }
        });
        Upstream { port, hits }
    }
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

#[test]
fn outbound_http_goes_only_where_allowed_outbound_hosts_allows() {
    let upstream = Upstream::start();
    let dir = tempfile::tempdir().unwrap();
    let probe = "source = \"target/wasm32-wasip2/component/probe.wasm\"";
    let manifest = manifest_with(
        &dir,
        &format!(
            "[variables]\nupstream = {{ default = \"\" }}\n\
             [[trigger.http]]\nroute = \"/allowed/...\"\ncomponent = \"allowed\"\n\
             [[trigger.http]]\nroute = \"/other-port/...\"\ncomponent = \"other-port\"\n\
             [[trigger.http]]\nroute = \"/none/...\"\ncomponent = \"none\"\n\
             [component.allowed]\n{probe}\nallowed_outbound_hosts = [\"http://{{{{ upstream }}}}\"]\n\
             [component.other-port]\n{probe}\nallowed_outbound_hosts = [\"http://127.0.0.1:1\"]\n\
             [component.none]\n{probe}\n"
        ),
    );
    let upstream_url = format!("http://127.0.0.1:{}/x", upstream.port);
    let host = TestHost::start(
        HostOptions::new(&manifest).variable("upstream", format!("127.0.0.1:{}", upstream.port)),
    );
    let call =
        |route: &str| ok_json(host.get(&format!("/{route}/x?op=outbound&url={upstream_url}")));

    assert_eq!(
        call("allowed")["status"],
        200,
        "the template resolves to the upstream"
    );
    for denied in ["other-port", "none"] {
        let answer = call(denied);
        assert!(
            answer["error"]
                .as_str()
                .unwrap_or_default()
                .contains("HttpRequestDenied"),
            "{denied}: {answer}"
        );
    }
    assert_eq!(
        upstream.hits.load(Ordering::SeqCst),
        1,
        "only the allowed request left"
    );
    host.wait_for_log(|log| log.contains("component none: outbound request to"));

    // An empty template allows nothing, as in Spin.
    drop(host);
    let host = TestHost::start(HostOptions::new(&manifest));
    let answer = ok_json(host.get(&format!("/allowed/x?op=outbound&url={upstream_url}")));
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("HttpRequestDenied"),
        "{answer}"
    );
    assert_eq!(upstream.hits.load(Ordering::SeqCst), 1);
}

#[test]
fn keys_and_values_are_bounded_with_a_store_error_not_a_trap() {
    let host = TestHost::start(HostOptions::probe());
    let set = |key: &str, value: &[u8]| {
        host.put(
            &format!("/probe/x?op=kv-set&key={key}"),
            "application/octet-stream",
            value,
        )
    };
    let longest_key = "k".repeat(256);
    ok_json(set(&longest_key, b"v"));
    let largest_value = vec![b'v'; 1024 * 1024];
    ok_json(set("big", &largest_value));

    let refused = set(&"k".repeat(257), b"v");
    assert_eq!(refused.status, 500, "{}", refused.text());
    let error = refused.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("key of 257 bytes is over the limit"),
        "{error}"
    );

    let refused = set("bigger", &vec![b'v'; 1024 * 1024 + 1]);
    let error = refused.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("over the limit of 1048576 bytes"), "{error}");

    let read = host.get(&format!("/probe/x?op=kv-get&key={}", "k".repeat(300)));
    assert!(read.text().contains("over the limit"), "{}", read.text());
    let counted = host.get(&format!("/probe/x?op=incr&key={}", "k".repeat(300)));
    assert!(
        counted.text().contains("over the limit"),
        "{}",
        counted.text()
    );
    // Each refusal above is the probe's own answer to a store error (a trap would have been the
    // host's COMPONENT_FAILED, without `error`), and nothing was written.
    assert_eq!(
        ok_json(host.get("/probe/x?op=kv-exists&key=bigger"))["exists"],
        false
    );
}

#[test]
fn compiled_components_are_cached_privately_and_never_through_a_link() {
    let state = tempfile::tempdir().unwrap();
    let cache = state.path().join("module-cache");
    let host =
        TestHost::start(HostOptions::probe().env("CREDIT_HOST_CACHE_DIR", cache.to_str().unwrap()));
    assert_eq!(ok_json(host.get("/probe/x?op=echo"))["component"], "probe");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&cache), 0o700);
    let files: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!files.is_empty(), "nothing cached");
    for file in &files {
        assert!(
            file.to_string_lossy().ends_with(".cwasm"),
            "{}",
            file.display()
        );
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    drop(host);

    // A cache folder that is a link (planted where the host would create its own) is not used.
    let elsewhere = tempfile::tempdir().unwrap();
    let link = state.path().join("linked-cache");
    std::os::unix::fs::symlink(elsewhere.path(), &link).unwrap();
    let host =
        TestHost::start(HostOptions::probe().env("CREDIT_HOST_CACHE_DIR", link.to_str().unwrap()));
    assert_eq!(ok_json(host.get("/probe/x?op=echo"))["component"], "probe");
    assert!(
        host.log().contains("not caching compiled components"),
        "{}",
        host.log()
    );
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}
