//! Integrations (docs/integration.md): CORS on public verification only, and
//! revocation notices for relying parties — a subscription sees a
//! revocation in its feed and at a webhook receiver this test starts; a
//! receiver that was down gets it later; expiry is announced; a forged or
//! replayed signature fails the documented check.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use credit_core::auth::Role;
use credit_core::auth::development::{Claims, mint};
use credit_core::subscription::{SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature};
use integration_tests::fixtures::*;
use integration_tests::{HostOptions, Reply, TestHost, development_token_key, skip_under_spin};
use serde_json::{Value, json};

/// What a webhook receiver was sent.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header: {:?}", self.headers))
    }
}

/// A webhook receiver on a loopback port: records each POST, then answers 204.
struct Receiver {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start() -> Receiver {
        Self::on(TcpListener::bind("127.0.0.1:0").expect("a free port"))
    }

    fn on(listener: TcpListener) -> Receiver {
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(request) = read_request(&stream) {
                    log.lock().unwrap().push(request);
                }
                let _ =
                    (&stream).write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
            }
        });
        Receiver { port, received }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/credit", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream);
    let mut headers = Vec::new();
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            line.clear();
            reader.read_line(&mut line).ok()?;
            let size = usize::from_str_radix(line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break body;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        body
    };
    Some(Received { headers, body })
}

/// A tender platform's API token: any valid token names a client; no role is needed.
fn platform_token(sub: &str) -> String {
    token(Role::Staff, sub, None, None)
}

/// The host, allowed to post webhooks to `receiver_port` on loopback.
fn host_for(receiver_port: u16) -> HostOptions {
    HostOptions::product().variable("webhook_host", format!("http://127.0.0.1:{receiver_port}"))
}

/// A report showing one tax penalty; returns (report, the penalty's record id).
fn report_with_record(host: &TestHost, uscc: &str, document_no: &str) -> (Value, String) {
    let ids = store_all(
        host,
        &tax_department(),
        &[tax_penalty(uscc, document_no, days_ago(30), "general")],
    );
    (issue_report(host, uscc), ids[0].clone())
}

fn withdraw(host: &TestHost, record_id: &str) {
    let reply = host.request(
        "DELETE",
        &format!("/api/v1/records/{record_id}"),
        &[
            ("authorization", &format!("Bearer {}", tax_department())),
            ("content-type", "application/json"),
        ],
        json!({ "reason": "行政复议决定撤销该处罚决定" })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
}

fn subscribe(host: &TestHost, bearer: &str, body: Value) -> Reply {
    host.post_json("/api/v1/subscriptions", &body, Some(bearer))
}

fn feed(host: &TestHost, bearer: &str, after: u64) -> Value {
    let reply = host.get_auth(
        &format!("/api/v1/subscriptions/events?after={after}"),
        bearer,
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn deliveries(host: &TestHost, bearer: &str) -> Value {
    let reply = host.get_auth("/api/v1/subscriptions/deliveries", bearer);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

#[test]
fn public_verification_answers_any_origin_and_authenticated_endpoints_grant_none() {
    let host = TestHost::start(HostOptions::product());
    let origin = "https://tender.example.cn";
    for path in [
        "/api/v1/verify/code",
        "/api/v1/verify/batch",
        "/api/v1/verify/file",
    ] {
        let preflight = host.request(
            "OPTIONS",
            path,
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            &[],
        );
        assert_eq!(preflight.status, 204, "{path}: {}", preflight.text());
        assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
        assert!(
            preflight
                .header("access-control-allow-methods")
                .is_some_and(|m| m.contains("POST")),
            "{path}"
        );
        assert_eq!(
            preflight.header("access-control-allow-headers"),
            Some("content-type")
        );
        assert!(preflight.header("access-control-max-age").is_some());
        assert_eq!(preflight.header("access-control-allow-credentials"), None);
    }
    let answer = host.request(
        "POST",
        "/api/v1/verify/code",
        &[("origin", origin), ("content-type", "application/json")],
        json!({ "code": "ABCD2345EFGH6789" }).to_string().as_bytes(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    let exposed = answer.header("access-control-expose-headers").unwrap();
    for name in ["RateLimit", "RateLimit-Policy", "Retry-After"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    // A problem is readable cross-origin too: the page shows why.
    let problem = host.request(
        "POST",
        "/api/v1/verify/code",
        &[("origin", origin), ("content-type", "application/json")],
        b"{}",
    );
    assert_eq!(problem.status, 400);
    assert_eq!(problem.header("access-control-allow-origin"), Some("*"));

    for path in [
        "/api/v1/reports",
        "/api/v1/records",
        "/api/v1/subscriptions",
        "/api/v1/objections",
    ] {
        let preflight = host.request(
            "OPTIONS",
            path,
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "authorization"),
            ],
            &[],
        );
        assert_ne!(preflight.status / 100, 2, "{path}");
        assert_eq!(
            preflight.header("access-control-allow-origin"),
            None,
            "{path}"
        );
    }
    let catalog = host.request("GET", "/api/v1/reports", &[("origin", origin)], &[]);
    assert_eq!(catalog.header("access-control-allow-origin"), None);
}

#[test]
fn a_revocation_reaches_the_feed_and_a_signed_webhook() {
    let receiver = Receiver::start();
    let host = TestHost::start(host_for(receiver.port));
    let uscc = credit_code(91, 1);
    let (report, record) = report_with_record(&host, &uscc, "永税91罚〔2026〕1号");
    let report_no = report["report_no"].as_str().unwrap();
    let code = report["verification_code"].as_str().unwrap();
    let platform = platform_token("tender-platform-a");

    assert_problem(
        &subscribe(&host, &platform, json!({ "report_no": report_no })),
        400,
        "MISSING_FIELD",
    );
    let wrong = subscribe(
        &host,
        &platform,
        json!({ "report_no": report_no, "code": "ABCD2345EFGH6789" }),
    );
    assert_problem(&wrong, 404, "NOT_FOUND");
    assert_problem(
        &host.post_json(
            "/api/v1/subscriptions",
            &json!({ "report_no": report_no, "code": code }),
            None,
        ),
        401,
        "UNAUTHENTICATED",
    );
    assert_problem(
        &subscribe(
            &host,
            &platform,
            json!({ "report_no": report_no, "code": code, "callback_url": "http://tender.example.cn/hook" }),
        ),
        400,
        "INVALID_FIELD",
    );

    let registered = subscribe(
        &host,
        &platform,
        json!({ "report_no": report_no, "code": code, "callback_url": receiver.url() }),
    );
    assert_eq!(registered.status, 201, "{}", registered.text());
    let registered = registered.json();
    assert_eq!(registered["status"], "VALID");
    assert_eq!(registered["created"], true);
    let secret = registered["webhook_secret"]
        .as_str()
        .expect("the secret, shown once")
        .to_owned();
    let again = subscribe(
        &host,
        &platform,
        json!({ "report_no": report_no, "code": code }),
    );
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["created"], false);
    assert!(again.json().get("webhook_secret").is_none(), "shown once");

    let empty = feed(&host, &platform, 0);
    assert_eq!(empty["events"], json!([]));
    assert_eq!(empty["next_cursor"], 0);

    withdraw(&host, &record);

    let posts = receiver.received();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let post = &posts[0];
    let event: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(event["type"], "report.revoked");
    assert_eq!(event["report_no"], report_no);
    assert_eq!(event["event_id"], format!("{report_no}:revoked"));
    let now = Utc::now();
    let (timestamp, signature) = (post.header(TIMESTAMP_HEADER), post.header(SIGNATURE_HEADER));
    assert!(verify_signature(
        &secret, timestamp, signature, &post.body, now
    ));
    let mut forged = post.body.clone();
    forged.extend_from_slice(b" ");
    assert!(
        !verify_signature(&secret, timestamp, signature, &forged, now),
        "forged body"
    );
    assert!(
        !verify_signature("another-secret", timestamp, signature, &post.body, now),
        "another key"
    );
    assert!(
        !verify_signature(
            &secret,
            timestamp,
            signature,
            &post.body,
            now + Duration::minutes(10)
        ),
        "replayed ten minutes later"
    );

    let page = feed(&host, &platform, 0);
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{page}");
    assert_eq!(events[0], event, "the feed and the webhook say the same");
    assert_eq!(page["next_cursor"], events[0]["cursor"]);
    assert_eq!(page["has_more"], false);
    let after = page["next_cursor"].as_u64().unwrap();
    assert_eq!(feed(&host, &platform, after)["events"], json!([]));
    assert_eq!(receiver.received().len(), 1, "delivered once");

    let log = deliveries(&host, &platform);
    assert_eq!(log["callback_url"], receiver.url());
    assert_eq!(log["settled_cursor"], after);
    assert_eq!(log["deliveries"][0]["result"], "delivered", "{log}");
    assert_eq!(log["deliveries"][0]["http_status"], 204);

    // Another client sees nothing of this one's feed.
    let other = platform_token("tender-platform-b");
    assert_eq!(feed(&host, &other, 0)["events"], json!([]));
    assert_problem(
        &host.get("/api/v1/subscriptions/events"),
        401,
        "UNAUTHENTICATED",
    );
}

/// A host posting webhooks to `port`, an entity's report showing one record,
/// and a platform (`sub`) holding the report with its callback on `port`:
/// the host, the record and the platform's token.
fn subscribed_with_callback_on(port: u16, n: u32, sub: &str) -> (TestHost, String, String) {
    let host = TestHost::start(host_for(port));
    let uscc = credit_code(n, 1);
    let (report, record) = report_with_record(&host, &uscc, &format!("永税{n}罚〔2026〕1号"));
    let platform = platform_token(sub);
    let registered = subscribe(
        &host,
        &platform,
        json!({
            "report_no": report["report_no"], "code": report["verification_code"],
            "callback_url": format!("http://127.0.0.1:{port}/hooks/credit"),
        }),
    );
    assert_eq!(registered.status, 201, "{}", registered.text());
    (host, record, platform)
}

#[test]
fn a_receiver_that_was_down_gets_the_event_after_the_feed_is_read() {
    // A port nothing listens on until the receiver starts there.
    let reserved = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = reserved.local_addr().unwrap().port();
    drop(reserved);
    let (host, record, platform) = subscribed_with_callback_on(port, 92, "tender-platform-down");

    withdraw(&host, &record);
    let log = deliveries(&host, &platform);
    assert_eq!(log["deliveries"][0]["result"], "failed", "{log}");
    assert_eq!(log["settled_cursor"], 0);

    let receiver = Receiver::on(TcpListener::bind(("127.0.0.1", port)).expect("the port again"));
    let page = feed(&host, &platform, 0);
    assert_eq!(page["events"][0]["type"], "report.revoked", "{page}");
    let posts = receiver.received();
    assert_eq!(
        posts.len(),
        1,
        "the feed read retried the webhook: {posts:?}"
    );
    let log = deliveries(&host, &platform);
    assert_eq!(log["deliveries"][0]["result"], "delivered", "{log}");
    assert_eq!(log["deliveries"][0]["attempt"], 2, "{log}");
    assert_eq!(log["settled_cursor"], page["events"][0]["cursor"]);
}

#[test]
fn expiry_is_announced_in_the_feed() {
    skip_under_spin!("moves the clock past the report's validity");
    let host = TestHost::start(HostOptions::product().test_clock());
    let uscc = credit_code(93, 1);
    let report = issue_report(&host, &uscc);
    // A token still valid when the clock has moved past the report's validity.
    let platform = mint(
        &development_token_key().private_key_pem,
        &Claims {
            sub: "tender-platform-expiry".into(),
            role: Role::Staff,
            uscc: None,
            unit: None,
            name: None,
            exp: (Utc::now() + Duration::days(60)).timestamp(),
            iat: None,
        },
    )
    .unwrap();
    let registered = subscribe(
        &host,
        &platform,
        json!({ "report_no": report["report_no"], "code": report["verification_code"] }),
    );
    assert_eq!(registered.status, 201, "{}", registered.text());
    assert_eq!(feed(&host, &platform, 0)["events"], json!([]));

    let later = host.at(china_time(today() + Duration::days(40), 9, 0, 0));
    let reply = later.get_auth("/api/v1/subscriptions/events?after=0", &platform);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let page = reply.json();
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{page}");
    assert_eq!(events[0]["type"], "report.expired");
    assert_eq!(events[0]["occurred_at"], report["valid_until"]);
    // Announced once, however often the feed is read.
    let again = later.get_auth("/api/v1/subscriptions/events?after=0", &platform);
    assert_eq!(again.json()["events"].as_array().unwrap().len(), 1);
    assert_problem(
        &later.get_auth("/api/v1/subscriptions/events?after=x", &platform),
        400,
        "INVALID_FIELD",
    );
}

#[test]
fn a_receiver_that_never_answers_does_not_hold_the_revocation() {
    // Accepts connections (the kernel's backlog) and never reads or answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = silent.local_addr().unwrap().port();
    let (host, record, platform) = subscribed_with_callback_on(port, 93, "tender-platform-silent");

    // The withdrawal is answered (not the host's deadline) and the webhook
    // attempt is logged as failed; the feed has the event.
    withdraw(&host, &record);
    let log = deliveries(&host, &platform);
    assert_eq!(log["deliveries"][0]["result"], "failed", "{log}");
    let page = feed(&host, &platform, 0);
    assert_eq!(page["events"][0]["type"], "report.revoked", "{page}");
    drop(silent);
}
