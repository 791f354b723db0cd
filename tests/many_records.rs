//! One entity with many records: the report renders and downloads within
//! the instance's memory, and every listing pages through them.

use std::time::Instant;

use integration_tests::fixtures::*;
use integration_tests::{HostOptions, TestHost};
use serde_json::{Value, json};

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

fn seed(host: &TestHost, uscc: &str, count: usize) {
    let started = Instant::now();
    for from in (1..=count).step_by(1000) {
        store_all(
            host,
            &tax_department(),
            &records(uscc, from, (from + 999).min(count)),
        );
    }
    eprintln!("seeded {count} records in {:?}", started.elapsed());
}

#[test]
fn ten_thousand_records() {
    let host =
        TestHost::start(HostOptions::product().deadline(std::time::Duration::from_secs(120)));
    let uscc = credit_code(77, 1);
    seed(
        &host,
        &uscc,
        std::env::var("N")
            .map(|n| n.parse().unwrap())
            .unwrap_or(10_000),
    );
    let started = Instant::now();
    let list = host.get_auth(&format!("/api/v1/records?uscc={uscc}"), &admin());
    eprintln!(
        "list {} in {:?}: {}",
        list.status,
        started.elapsed(),
        &list.text()[..200.min(list.text().len())]
    );
    let started = Instant::now();
    let reply = host.post_json(
        "/api/v1/reports",
        &json!({"months": 12, "domains": "all", "purpose": purpose(&host)}),
        Some(&entity(&uscc)),
    );
    eprintln!(
        "apply {} in {:?}: {}",
        reply.status,
        started.elapsed(),
        &reply.text()[..300.min(reply.text().len())]
    );
    let report = reply.json();
    let started = Instant::now();
    let pdf = download(&host, report["report_no"].as_str().unwrap(), &entity(&uscc));
    eprintln!(
        "pdf {} in {:?}: {} bytes {}",
        pdf.status,
        started.elapsed(),
        pdf.body.len(),
        if pdf.status != 200 {
            pdf.text()
        } else {
            String::new()
        }
    );
    eprintln!(
        "{}",
        host.log()
            .lines()
            .filter(|l| l.contains("peak") || l.contains("rror"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
