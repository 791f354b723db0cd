//! Test data and requests the integration tests share: bearer tokens, credit codes, dates in
//! China time, record JSON, and the calls that store records, issue reports and check
//! problem answers through the HTTP API of a running host; tables of bad requests.

use chrono::{DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, Utc};
use credit_core::auth::Role;
use credit_core::auth::development::{Claims, mint};
use credit_core::uscc::CreditCode;
use serde_json::{Value, json};

use crate::{Reply, TestHost, development_token_key};

/// The entity name in entity tokens and in the records built here.
const ENTITY_NAME: &str = "永昌县测试商贸有限公司";

/// Every status a record PUT may answer for an item that was stored.
pub const STORED: &[&str] = &["created", "updated", "unchanged"];

/// A development token signed with [`development_token_key`], valid for an hour from now, and at any
/// earlier time the clock is pinned to (its issue time is not checked).
pub fn token(role: Role, sub: &str, uscc: Option<&str>, unit: Option<&str>) -> String {
    let now = Utc::now().timestamp();
    let claims = Claims {
        sub: sub.into(),
        role,
        uscc: uscc.map(str::to_owned),
        unit: unit.map(str::to_owned),
        name: Some(ENTITY_NAME.into()).filter(|_| role == Role::Entity),
        exp: now + 3600,
        iat: Some(now),
    };
    mint(&development_token_key().private_key_pem, &claims).unwrap()
}

pub fn entity(uscc: &str) -> String {
    token(Role::Entity, &format!("user-{uscc}"), Some(uscc), None)
}

pub fn department(unit: &str) -> String {
    token(Role::Department, "dept-user", None, Some(unit))
}

pub fn tax_department() -> String {
    department("县税务局")
}

pub fn staff(sub: &str) -> String {
    token(Role::Staff, sub, None, None)
}

pub fn admin() -> String {
    token(Role::Admin, "root", None, None)
}

/// A valid credit code, distinct per `series` (one per test) and `n`.
pub fn credit_code(series: u32, n: u32) -> String {
    CreditCode::with_check_character(&format!("91620321MA{series:02}{n:05}"))
        .unwrap()
        .to_string()
}

/// The credit code of the deciding authority and source unit in the records built here.
pub fn authority_uscc() -> String {
    CreditCode::with_check_character("11620321MB0123456")
        .unwrap()
        .to_string()
}

/// Today in China, where the service dates records and reports.
pub fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
}

pub fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

pub fn months_ago(n: u32) -> NaiveDate {
    today().checked_sub_months(Months::new(n)).unwrap()
}

/// `hour:minute:second` in China time on `date`: a time to send requests at.
pub fn china_time(date: NaiveDate, hour: u32, minute: u32, second: u32) -> DateTime<FixedOffset> {
    date.and_hms_opt(hour, minute, second)
        .unwrap()
        .and_local_timezone(FixedOffset::east_opt(8 * 3600).unwrap())
        .unwrap()
}

/// The Monday of the week `weeks` weeks before this one: a past working week to pin the clock
/// in, early enough that tokens minted now are valid throughout it.
pub fn monday_weeks_ago(weeks: u64) -> NaiveDate {
    let this_monday = today()
        .checked_sub_days(Days::new(today().weekday().num_days_from_monday().into()))
        .unwrap();
    this_monday.checked_sub_days(Days::new(7 * weeks)).unwrap()
}

/// A tax penalty (general procedure, a fine) decided on `decided_on`.
pub fn tax_penalty(uscc: &str, document_no: &str, decided_on: NaiveDate, severity: &str) -> Value {
    json!({
        "kind": "penalty", "domain": "tax", "document_no": document_no,
        "entity_name": ENTITY_NAME, "uscc": uscc,
        "authority": "国家税务总局永昌县税务局", "authority_uscc": authority_uscc(),
        "source_unit": "县税务局", "source_unit_uscc": authority_uscc(),
        "entity_category": "法人及非法人组织", "legal_representative": "张三",
        "violation_type": "未按期申报", "facts": "未按规定期限办理纳税申报",
        "legal_basis": "《中华人民共和国税收征收管理法》第六十二条", "penalty_categories": ["罚款"],
        "penalty_content": "罚款0.2万元", "fine_wan_yuan": "0.2",
        "decided_on": decided_on.to_string(), "penalty_valid_until": "2099-12-31",
        "procedure": "general", "not_penalized": false, "severity": severity
    })
}

/// PUTs the records with `bearer`; every item must come back with one of `statuses`.
/// Returns their ids in order.
pub fn store_records(
    host: &TestHost,
    bearer: &str,
    items: &[Value],
    statuses: &[&str],
) -> Vec<String> {
    let reply = host.put_json("/api/v1/records", &json!(items), Some(bearer));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert!(
                r["status"].as_str().is_some_and(|s| statuses.contains(&s)),
                "{r}"
            );
            r["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// PUTs records every one of which must be stored; returns their ids in order.
pub fn store_all(host: &TestHost, bearer: &str, items: &[Value]) -> Vec<String> {
    store_records(host, bearer, items, STORED)
}

/// The entity's stored records, as an administrator sees them: every page.
pub fn records_of(host: &TestHost, uscc: &str) -> Vec<Value> {
    let mut records = Vec::new();
    let mut path = format!("/api/v1/records?uscc={uscc}&limit=500");
    loop {
        let reply = host.get_auth(&path, &admin());
        assert_eq!(reply.status, 200, "{}", reply.text());
        let page = reply.json();
        records.extend(page["records"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => path = format!("/api/v1/records?uscc={uscc}&limit=500&cursor={next}"),
            None => return records,
        }
    }
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

/// The written authorisation number counter staff apply under in these tests.
pub const AUTHORISATION_REF: &str = "永授〔2026〕001号";

/// Counter staff (`staff_token`) apply for the entity under its written authorisation
/// ([`AUTHORISATION_REF`]), and so act for it; returns the report's JSON.
pub fn apply_on_behalf(host: &TestHost, staff_token: &str, uscc: &str) -> Value {
    let reply = host.post_json(
        "/api/v1/reports",
        &json!({"months": 12, "domains": "all", "purpose": purpose(host),
            "uscc": uscc, "authorisation_ref": AUTHORISATION_REF}),
        Some(staff_token),
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

/// Asserts an RFC 9457 problem answer with this status and `code` and a detail; returns its body.
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
    assert_eq!(body["status"], status);
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}

/// The body of a request in a [`BadRequest`] table.
pub enum Body {
    None,
    Json(Value),
    /// Bytes sent as they are, with this content type.
    Raw(String, Vec<u8>),
}

impl Body {
    pub fn raw(content_type: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Body {
        Body::Raw(content_type.into(), bytes.into())
    }
}

/// One row of a bad-request table: a request and the problem it must be answered with.
pub struct BadRequest {
    pub method: &'static str,
    pub path: String,
    pub body: Body,
    pub bearer: Option<String>,
    pub status: u16,
    pub code: &'static str,
    /// The request field the problem must name, when it names one.
    pub field: Option<&'static str>,
}

/// A [`BadRequest`] row: `bearer` is the token sent, if any.
pub fn bad(
    method: &'static str,
    path: impl Into<String>,
    body: Body,
    bearer: Option<&str>,
    status: u16,
    code: &'static str,
) -> BadRequest {
    BadRequest {
        method,
        path: path.into(),
        body,
        bearer: bearer.map(str::to_owned),
        status,
        code,
        field: None,
    }
}

impl BadRequest {
    /// The problem must also name this request field.
    pub fn naming(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

/// Sends every row and checks its problem answer; fails naming every row that did not get it.
/// Returns the answers in row order, for checks particular to one row.
pub fn assert_bad_requests(host: &TestHost, table: &[BadRequest]) -> Vec<Reply> {
    let mut failures = Vec::new();
    let replies: Vec<Reply> = table
        .iter()
        .enumerate()
        .map(|(row, bad)| {
            let reply = send_bad_request(host, bad);
            if let Err(why) = check_problem(&reply, bad) {
                failures.push(format!(
                    "row {row}: {} {} expected {} {}: {why}",
                    bad.method, bad.path, bad.status, bad.code
                ));
            }
            reply
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    replies
}

fn send_bad_request(host: &TestHost, bad: &BadRequest) -> Reply {
    let auth = bad.bearer.as_ref().map(|b| format!("Bearer {b}"));
    let mut headers: Vec<(&str, &str)> =
        auth.iter().map(|a| ("authorization", a.as_str())).collect();
    let json;
    let body: &[u8] = match &bad.body {
        Body::None => &[],
        Body::Json(value) => {
            headers.push(("content-type", "application/json"));
            json = value.to_string();
            json.as_bytes()
        }
        Body::Raw(content_type, bytes) => {
            headers.push(("content-type", content_type.as_str()));
            bytes
        }
    };
    host.request(bad.method, &bad.path, &headers, body)
}

/// What is wrong with `reply` as the problem answer `bad` expects.
fn check_problem(reply: &Reply, bad: &BadRequest) -> Result<(), String> {
    let got = || format!("got {} {}", reply.status, reply.text());
    if reply.status != bad.status {
        return Err(got());
    }
    if reply.header("content-type") != Some("application/problem+json") {
        return Err(format!("content type {:?}", reply.header("content-type")));
    }
    let body: Value = serde_json::from_slice(&reply.body).map_err(|_| got())?;
    let detailed = body["detail"].as_str().is_some_and(|d| !d.is_empty());
    let field_ok = bad.field.is_none_or(|field| body["field"] == field);
    if body["code"] != bad.code || body["status"] != bad.status || !detailed || !field_ok {
        return Err(got());
    }
    Ok(())
}

/// A CSV row as the template's columns hold the record: words and dates as a
/// spreadsheet writes them.
pub fn csv_row(columns: &[&str], record: &Value, catalog: &Value, kind: &str) -> String {
    let fields = catalog["record_fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == kind)
        .unwrap()["fields"]
        .as_array()
        .unwrap()
        .clone();
    columns
        .iter()
        .map(|column| {
            let field = fields.iter().find(|f| f["column"] == *column).unwrap();
            let cell = match &record[field["name"].as_str().unwrap()] {
                Value::String(s) => s.clone(),
                Value::Array(words) => words
                    .iter()
                    .map(|w| w.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join("；"),
                Value::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
                _ => String::new(),
            };
            format!("\"{}\"", cell.replace('"', "\"\""))
        })
        .collect::<Vec<_>>()
        .join(",")
}
