//! Shared by the PDF and verification tests: tokens, records, reports and
//! PDFs, all through the HTTP API of a running host.

#![allow(dead_code)] // each test crate uses its own subset

use chrono::{Days, FixedOffset, NaiveDate, Utc};
use credit_core::auth::{Claims, DEVELOPMENT_SECRET, Role, mint};
use credit_core::uscc::CreditCode;
use integration_tests::{Reply, TestHost};
use serde_json::{Value, json};

pub fn token(role: Role, sub: &str, uscc: Option<&str>, unit: Option<&str>) -> String {
    let now = Utc::now().timestamp();
    let claims = Claims {
        sub: sub.into(),
        role,
        uscc: uscc.map(str::to_owned),
        unit: unit.map(str::to_owned),
        name: Some("永昌县测试商贸有限公司".into()).filter(|_| role == Role::Entity),
        exp: now + 3600,
        iat: Some(now),
    };
    mint(DEVELOPMENT_SECRET.as_bytes(), &claims).unwrap()
}

pub fn entity(uscc: &str) -> String {
    token(Role::Entity, &format!("user-{uscc}"), Some(uscc), None)
}

pub fn staff() -> String {
    token(Role::Staff, "clerk-1", None, None)
}

pub fn tax_department() -> String {
    token(Role::Department, "tax-user", None, Some("县税务局"))
}

/// A valid credit code, distinct per `series` (one per test) and `n`.
pub fn credit_code(series: u32, n: u32) -> String {
    CreditCode::with_check_character(&format!("91620321MB{series:02}{n:05}"))
        .unwrap()
        .to_string()
}

fn authority_uscc() -> String {
    CreditCode::with_check_character("11620321MB0123456")
        .unwrap()
        .to_string()
}

pub fn days_ago(n: u64) -> String {
    let today: NaiveDate = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    today.checked_sub_days(Days::new(n)).unwrap().to_string()
}

/// A tax penalty that counts in a 12-month report.
pub fn tax_penalty(uscc: &str, document_no: &str, facts: &str) -> Value {
    json!({
        "kind": "penalty", "domain": "tax", "document_no": document_no,
        "entity_name": "永昌县测试商贸有限公司", "uscc": uscc,
        "authority": "国家税务总局永昌县税务局", "authority_uscc": authority_uscc(),
        "source_unit": "县税务局", "source_unit_uscc": authority_uscc(),
        "entity_category": "法人及非法人组织", "legal_representative": "张三",
        "violation_type": "未按期申报", "facts": facts,
        "legal_basis": "《中华人民共和国税收征收管理法》第六十二条", "penalty_categories": ["罚款"],
        "penalty_content": "罚款0.2万元", "fine_wan_yuan": "0.2",
        "decided_on": days_ago(30), "penalty_valid_until": "2099-12-31",
        "procedure": "general", "not_penalized": false, "severity": "general"
    })
}

/// Stores tax records; returns their ids in order.
pub fn put_tax_records(host: &TestHost, items: &[Value]) -> Vec<String> {
    let reply = host.put_json("/api/v1/records", &json!(items), Some(&tax_department()));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert!(
                matches!(
                    r["status"].as_str(),
                    Some("created" | "updated" | "unchanged")
                ),
                "{r}"
            );
            r["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Issues a 12-month report over every domain for the entity; returns its JSON.
pub fn issue_report(host: &TestHost, uscc: &str) -> Value {
    let reply = host.post_json(
        "/api/v1/reports",
        &json!({"months": 12, "domains": "all", "purpose": purpose(host)}),
        Some(&entity(uscc)),
    );
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

/// The first purpose code of the catalog.
pub fn purpose(host: &TestHost) -> String {
    let catalog = host.get("/api/v1/catalog").json();
    catalog["purposes"][0]["code"].as_str().unwrap().to_owned()
}

pub fn download(host: &TestHost, report_no: &str, bearer: &str) -> Reply {
    host.get_auth(&format!("/api/v1/reports/{report_no}/pdf"), bearer)
}

/// The PDF of a report, downloaded by its owner.
pub fn pdf_of(host: &TestHost, report: &Value) -> Vec<u8> {
    let no = report["report_no"].as_str().unwrap();
    let reply = download(host, no, &entity(report["uscc"].as_str().unwrap()));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/pdf"));
    assert!(reply.body.starts_with(b"%PDF-"));
    reply.body
}

pub fn assert_problem(reply: &Reply, status: u16, code: &str) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{}",
        reply.text()
    );
    let body = reply.json();
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}
