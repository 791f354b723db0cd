//! Our host and the real Spin CLI side by side: one state folder, or one Redis store, served by
//! each in turn; and the places where the two servers may differ (variables' casing, unrouted
//! paths, body caps). Needs the Spin CLI (`CREDIT_SPIN_BIN`, or `../shared/tools/spin`);
//! `make spin-test` runs it, and says so in one line when the CLI is absent.

use std::path::Path;
use std::thread;

use integration_tests::fixtures::*;
use integration_tests::{HostOptions, RedisServer, Server, TestHost};
use serde_json::{Value, json};

const SERVERS: [Server; 2] = [Server::Host, Server::Spin];

fn on(server: Server) -> HostOptions {
    HostOptions::product().server(server)
}

/// The SQLite file's schema, as `sqlite_master` lists it.
fn schema(state_dir: &Path) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open(state_dir.join("sqlite_key_value.db")).unwrap();
    let mut statement = db
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A report with one record, issued and downloaded (which pins its PDF's fingerprint).
fn issue_with_record(host: &TestHost, uscc: &str, document_no: &str) -> (Value, Vec<u8>) {
    store_all(
        host,
        &tax_department(),
        &[tax_penalty(uscc, document_no, days_ago(20), "general")],
    );
    let report = issue_report(host, uscc);
    assert_eq!(report["clean"], false, "{report}");
    let pdf = pdf_of(host, &report);
    (report, pdf)
}

/// The server answers for the report as when it was issued: the same JSON, the same PDF bytes,
/// VALID by code and by file.
fn assert_serves(host: &TestHost, report: &Value, pdf: &[u8]) {
    let no = report["report_no"].as_str().unwrap();
    let owner = entity(report["uscc"].as_str().unwrap());
    let again = host.get_auth(&format!("/api/v1/reports/{no}"), &owner);
    assert_eq!(again.status, 200, "{:?}: {}", host.server(), again.text());
    assert_eq!(&again.json(), report, "{:?}", host.server());
    assert_eq!(
        pdf_of(host, report),
        pdf,
        "{:?}: the pinned PDF",
        host.server()
    );
    let by_code = host.post_json(
        "/api/v1/verify/code",
        &json!({ "code": report["verification_code"] }),
        None,
    );
    assert_eq!(by_code.status, 200, "{}", by_code.text());
    assert_eq!(by_code.json()["outcome"], "VALID", "{:?}", host.server());
    let by_file = host.post("/api/v1/verify/file", "application/pdf", pdf);
    assert_eq!(by_file.status, 200, "{}", by_file.text());
    assert_eq!(by_file.json()["outcome"], "VALID", "{:?}", host.server());
    assert_eq!(by_file.json()["file"]["matches_original"], true);
}

#[test]
fn a_state_folder_written_by_our_host_is_served_by_spin_unchanged_and_back() {
    let mut host = TestHost::start(on(Server::Host));
    let (first, first_pdf) = issue_with_record(&host, &credit_code(61, 1), "永税61罚〔2026〕1号");
    let written_by_host = schema(host.state_dir());

    host.serve_with(on(Server::Spin));
    assert_serves(&host, &first, &first_pdf);
    let (second, second_pdf) = issue_with_record(&host, &credit_code(61, 2), "永税61罚〔2026〕2号");
    assert_ne!(second["report_no"], first["report_no"], "numbering goes on");
    assert_eq!(
        schema(host.state_dir()),
        written_by_host,
        "Spin kept the schema"
    );

    host.serve_with(on(Server::Host));
    assert_serves(&host, &first, &first_pdf);
    assert_serves(&host, &second, &second_pdf);
    assert_eq!(schema(host.state_dir()), written_by_host);
}

#[test]
fn the_redis_store_serves_spin_and_our_host_alike_and_loses_no_concurrent_update() {
    let redis = RedisServer::start();
    let mut host = TestHost::start(on(Server::Spin).runtime_config(redis.runtime_config()));
    let (first, first_pdf) = issue_with_record(&host, &credit_code(62, 1), "永税62罚〔2026〕1号");
    host.restart();
    assert_serves(&host, &first, &first_pdf);

    // Eight clients apply at once: report numbers come from the store's atomic increment.
    let issued: Vec<Value> = thread::scope(|scope| {
        let clients: Vec<_> = (1..=8)
            .map(|n| {
                let host = &host;
                scope.spawn(move || {
                    (0..3)
                        .map(|_| issue_report(host, &credit_code(62, 10 + n)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|client| client.join().unwrap())
            .collect()
    });
    let mut numbers: Vec<&str> = issued
        .iter()
        .map(|r| r["report_no"].as_str().unwrap())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 24, "distinct report numbers: {numbers:?}");

    host.serve_with(on(Server::Host).runtime_config(redis.runtime_config()));
    assert_serves(&host, &first, &first_pdf);
    let (second, second_pdf) = issue_with_record(&host, &credit_code(62, 2), "永税62罚〔2026〕2号");
    host.serve_with(on(Server::Spin).runtime_config(redis.runtime_config()));
    assert_serves(&host, &second, &second_pdf);
    for report in &issued {
        let reply = host.post_json(
            "/api/v1/verify/code",
            &json!({ "code": report["verification_code"] }),
            None,
        );
        assert_eq!(reply.json()["outcome"], "VALID", "{report}");
    }
}

/// `SPIN_VARIABLE_<NAME>` is read with the name upper-cased, by both servers alike: a
/// lower-case spelling is ignored.
#[test]
fn variables_are_read_from_upper_case_environment_names_on_both_servers() {
    for server in SERVERS {
        let host = TestHost::start(
            on(server)
                .env("SPIN_VARIABLE_APPLY_LIMIT_PER_DAY", "1")
                .env("SPIN_VARIABLE_report_validity_days", "7"),
        );
        let uscc = credit_code(63, 1);
        let report = issue_report(&host, &uscc);
        let issued = report["issued_at"].as_str().unwrap();
        let valid_until = report["valid_until"].as_str().unwrap();
        let days = chrono::DateTime::parse_from_rfc3339(valid_until).unwrap()
            - chrono::DateTime::parse_from_rfc3339(issued).unwrap();
        assert_eq!(
            days.num_days(),
            30,
            "{server:?}: the default validity, {report}"
        );
        let again = host.post_json(
            "/api/v1/reports",
            &json!({"months": 12, "domains": "all", "purpose": purpose(&host)}),
            Some(&entity(&uscc)),
        );
        assert_problem(&again, 429, "TOO_MANY_APPLICATIONS");
    }
}

/// A JSON body over the component's cap (64 KiB) is 413 `PAYLOAD_TOO_LARGE` from the component
/// on both servers. One over our host's own cap (8 MiB) is answered by our host before any
/// component runs, and the connection closed (tests/host.rs); Spin has no cap of its own and
/// hands it to the component, which gives the same answer. A path no route serves is 404 on
/// both; the bodies differ (docs/operations.md), and the product routes every path anyway
/// (`/...` is the pages).
#[test]
fn oversized_bodies_and_unrouted_paths_are_refused_on_both_servers() {
    let dir = tempfile::tempdir().unwrap();
    // One route to the test probe, which needs no variables.
    let probe_only = dir.path().join("spin.toml");
    std::fs::write(
        &probe_only,
        "spin_manifest_version = 2\n[application]\nname = \"probe-only\"\n\
         [[trigger.http]]\nroute = \"/probe/...\"\ncomponent = \"probe\"\n\
         [component.probe]\nsource = \"target/wasm32-wasip2/component/probe.wasm\"\n",
    )
    .unwrap();
    let over_component_cap = vec![b' '; 100 * 1024];
    let over_host_cap = vec![b' '; 9 * 1024 * 1024];
    for server in SERVERS {
        let host = TestHost::start(on(server));
        assert_problem(
            &host.post(
                "/api/v1/verify/code",
                "application/json",
                &over_component_cap,
            ),
            413,
            "PAYLOAD_TOO_LARGE",
        );
        if server == Server::Spin {
            assert_problem(
                &host.post("/api/v1/verify/code", "application/json", &over_host_cap),
                413,
                "PAYLOAD_TOO_LARGE",
            );
        }
        assert_eq!(
            host.get("/api/v1/catalog").status,
            200,
            "{server:?} still serves"
        );

        let host = TestHost::start(HostOptions::new(&probe_only).server(server));
        assert_eq!(host.get("/probe/x").status, 200, "{server:?}");
        assert_eq!(host.get("/elsewhere").status, 404, "{server:?}");
    }
}
