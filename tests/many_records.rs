//! One entity with many records, on an instance of the product's 32 MiB:
//! listings page through every record, a report at the bound (1,000
//! records) is issued, downloads and verifies, and one beyond it is refused
//! before a report number and code are issued.

use integration_tests::fixtures::*;
use integration_tests::{HostOptions, TestHost};
use serde_json::{Value, json};

/// The product's per-instance memory target.
const INSTANCE_MIB: usize = 32;

fn host() -> TestHost {
    TestHost::start(HostOptions::product().env("CREDIT_HOST_MEMORY_MIB", INSTANCE_MIB.to_string()))
}

/// Counting tax penalties `from..=to` of the entity.
fn records(uscc: &str, from: usize, to: usize) -> Vec<Value> {
    (from..=to)
        .map(|i| {
            let mut record = tax_penalty(uscc, &format!("永税M罚〔2026〕{i}号"), days_ago(30), "general");
            record["facts"] = json!(format!(
                "经查，当事人第{i}次未按期办理纳税申报，经责令限期改正后仍未改正，情节一般，依法予以处罚。"
            ));
            record
        })
        .collect()
}

/// Stores `count` records in batches of intake's 1,000; returns their ids in order.
fn seed(host: &TestHost, uscc: &str, count: usize) -> Vec<String> {
    (1..=count)
        .step_by(1000)
        .flat_map(|from| {
            store_all(
                host,
                &tax_department(),
                &records(uscc, from, (from + 999).min(count)),
            )
        })
        .collect()
}

/// Every page of a listing at `path` (which has a query already), with the page size used.
fn pages(host: &TestHost, path: &str, bearer: &str, key: &str, limit: usize) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&limit={limit}&cursor={c}"),
            None => format!("{path}&limit={limit}"),
        };
        let reply = host.get_auth(&url, bearer);
        assert_eq!(reply.status, 200, "{url}: {}", reply.text());
        let body = reply.json();
        let items = body[key].as_array().unwrap().clone();
        assert!(items.len() <= limit);
        assert_eq!(body["count"], items.len());
        pages.push(items);
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                assert!(body["next_cursor"].is_null(), "{body}");
                return pages;
            }
        }
    }
}

/// The largest peak memory the host logged for requests to `path`.
fn peak_memory(host: &TestHost, path: &str) -> usize {
    host.log()
        .lines()
        .filter(|line| line.contains(path))
        .filter_map(|line| {
            line.split("peak_memory=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .max()
        .unwrap_or_else(|| panic!("no peak_memory logged for {path}:\n{}", host.log()))
}

#[test]
fn ten_thousand_records_page_through_and_a_report_on_them_is_refused_before_it_is_issued() {
    let host = host();
    let uscc = credit_code(77, 1);
    let stored = seed(&host, &uscc, 10_000);

    let path = format!("/api/v1/records?uscc={uscc}");
    let listed: Vec<String> = pages(&host, &path, &admin(), "records", 500)
        .into_iter()
        .flatten()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, stored, "every record once, in the order stored");
    // The default page, and the same through the entity's own view.
    let first = host.get_auth("/api/v1/records", &entity(&uscc)).json();
    assert_eq!(first["count"], 100);
    assert!(first["next_cursor"].is_string());

    let refused = host.post_json(
        "/api/v1/reports",
        &json!({"months": 12, "domains": "all", "purpose": purpose(&host)}),
        Some(&entity(&uscc)),
    );
    let problem = assert_problem(&refused, 422, "REPORT_TOO_LARGE");
    assert!(
        problem["detail"].as_str().unwrap().contains("1000"),
        "{problem}"
    );
    let reports = host.get_auth("/api/v1/reports", &entity(&uscc)).json();
    assert_eq!(reports["reports"], json!([]), "no report was issued");
}

#[test]
fn a_report_at_the_bound_downloads_within_the_instance_memory_and_verifies() {
    let host = host();
    let uscc = credit_code(77, 2);
    seed(&host, &uscc, 1000);
    let report = issue_report(&host, &uscc);
    assert_eq!(report["record_count"], 1000);
    let pdf = pdf_of(&host, &report);
    let verified = host.post("/api/v1/verify/file", "application/pdf", &pdf);
    assert_eq!(verified.status, 200, "{}", verified.text());
    assert_eq!(verified.json()["outcome"], "VALID", "{}", verified.text());
    let peak = peak_memory(&host, "/pdf generate");
    assert!(
        peak <= INSTANCE_MIB * 1024 * 1024,
        "the PDF took {peak} bytes"
    );

    // Reports page newest first.
    let second = issue_report(&host, &uscc);
    let third = issue_report(&host, &uscc);
    let listed: Vec<Vec<Value>> = pages(
        &host,
        &format!("/api/v1/reports?uscc={uscc}"),
        &entity(&uscc),
        "reports",
        2,
    );
    let numbers: Vec<Vec<&str>> = listed
        .iter()
        .map(|page| {
            page.iter()
                .map(|r| r["report_no"].as_str().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        numbers,
        [
            vec![
                third["report_no"].as_str().unwrap(),
                second["report_no"].as_str().unwrap()
            ],
            vec![report["report_no"].as_str().unwrap()],
        ]
    );
    let bad = host.get_auth(
        &format!("/api/v1/reports?uscc={uscc}&cursor=not-a-cursor"),
        &entity(&uscc),
    );
    assert_problem(&bad, 400, "INVALID_FIELD");
    let too_many = host.get_auth(
        &format!("/api/v1/reports?uscc={uscc}&limit=501"),
        &entity(&uscc),
    );
    assert_problem(&too_many, 400, "INVALID_FIELD");
}
