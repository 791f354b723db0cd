//! Public verification by code: POST /api/v1/verify/code {"code"} and
//! POST /api/v1/verify/batch {"codes": [...]} (at most 100, answered in order).
//!
//! The hot path of the service. Store round trips per single verification:
//! the rate-limit increment, the code lookup, one `get_many` for the report
//! and its revocation status, and the audit entry (increment + write: every
//! verification is audited). A batch pays the rate limit and the audit once,
//! and looks all its codes up in the same two round trips as one code.

use credit_core::audit::{self, AuditEntry};
use credit_core::codes::VerificationCode;
use credit_core::error::Error;
use credit_core::store::{Store, check_rate_limit};
use serde::Deserialize;
use serde_json::{Value, json};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

const MAX_BATCH: usize = 100;
const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 120;

#[derive(Deserialize)]
struct CodeRequest {
    #[serde(default)]
    code: Value,
}

#[derive(Deserialize)]
struct BatchRequest {
    codes: Vec<Value>,
}

#[http_component]
fn handle(req: Request) -> Response {
    platform::respond(|| {
        if *req.method() != Method::Post {
            return Err(Error::MethodNotAllowed {
                allowed: "POST".into(),
            });
        }
        if req.path().ends_with("/batch") {
            verify_batch(&req)
        } else {
            verify_one(&req)
        }
    })
}

fn verify_one(req: &Request) -> Result<Response, Error> {
    let now = platform::now();
    let client = platform::client_addr(req);
    let kv = platform::store()?;
    check_rate_limit(&kv, "verify", &client, 1, rate_limit()?, now)?;
    let body: CodeRequest = platform::json_body(req)?;
    let code = parse_code(&body.code)?;
    let verification = Store::new(&kv).verify_code(&code, now)?;
    let mut entry =
        AuditEntry::new(None, "verify.code", verification.outcome.code(), now).client(&client);
    if let Some(report) = &verification.report {
        entry = entry.target(&report.report_no);
    }
    audit::append(&kv, &entry)?;
    Ok(platform::json(200, &verification))
}

fn verify_batch(req: &Request) -> Result<Response, Error> {
    let now = platform::now();
    let client = platform::client_addr(req);
    let body: BatchRequest = platform::json_body(req)?;
    if body.codes.len() > MAX_BATCH {
        return Err(Error::TooManyItems { limit: MAX_BATCH });
    }
    if body.codes.is_empty() {
        return Err(Error::InvalidField {
            field: "codes".into(),
            detail: "至少提交 1 个核验码".into(),
        });
    }
    let kv = platform::store()?;
    // Every code counts, so a batch is no way around the limit.
    let cost = u32::try_from(body.codes.len()).unwrap_or(u32::MAX);
    check_rate_limit(&kv, "verify", &client, cost, rate_limit()?, now)?;
    // Parse every item first, so the well-formed codes are looked up
    // together: two store round trips for the whole batch.
    let parsed: Vec<Result<VerificationCode, Error>> = body.codes.iter().map(parse_code).collect();
    let codes: Vec<VerificationCode> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    // The store failing is not an item's fault: it fails the batch.
    let mut verified = Store::new(&kv).verify_codes(&codes, now)?.into_iter();
    let mut results = Vec::with_capacity(parsed.len());
    let mut audited = Vec::with_capacity(parsed.len());
    for item in parsed {
        match item.map(|_| verified.next()) {
            Ok(Some(verification)) => {
                audited.push(json!({
                    "outcome": verification.outcome.code(),
                    "report": verification.report.as_ref().map(|r| r.report_no.as_str()),
                }));
                results.push(serde_json::to_value(&verification).unwrap_or(Value::Null));
            }
            Ok(None) => return Err(Error::Internal("a code was not answered".into())),
            Err(error) => {
                audited.push(json!({ "outcome": error.code() }));
                results.push(json!({ "problem": error.to_problem() }));
            }
        }
    }
    let entry = AuditEntry::new(
        None,
        "verify.batch",
        &format!("{} codes", results.len()),
        now,
    )
    .client(&client)
    .details(json!({ "results": audited }));
    audit::append(&kv, &entry)?;
    Ok(platform::json(200, &json!({ "results": results })))
}

fn parse_code(raw: &Value) -> Result<VerificationCode, Error> {
    match raw {
        Value::String(s) => s.parse(),
        Value::Null => Err(Error::MissingField {
            field: "code".into(),
        }),
        _ => Err(Error::InvalidCode("核验码应为字符串".into())),
    }
}

fn rate_limit() -> Result<u32, Error> {
    platform::number_variable(
        "verify_rate_limit_per_minute",
        DEFAULT_RATE_LIMIT_PER_MINUTE,
        1,
    )
}
