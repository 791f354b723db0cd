//! Department record intake and the admin's audit log:
//! `PUT /api/v1/records` (batch upsert, JSON array or NDJSON),
//! `GET /api/v1/records?uscc=`, `GET|DELETE /api/v1/records/{id}`,
//! `GET /api/v1/audit?date=YYYY-MM-DD`.

use chrono::{DateTime, NaiveDate, Utc};
use credit_core::audit::{self, AuditEntry};
use credit_core::auth::{Principal, Role};
use credit_core::error::Error;
use credit_core::kv::KeyValue;
use credit_core::record::{Record, RecordId, StoredRecord};
use credit_core::store::{Change, Store};
use credit_core::uscc::CreditCode;
use serde_json::{Value, json};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

/// Items per `PUT /api/v1/records` (docs/api.md).
const MAX_ITEMS: usize = 1000;
/// Body cap of a batch: 1000 typical records take about 1.5 MB.
const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Body cap of a withdrawal (a reason).
const MAX_SMALL_BODY_BYTES: usize = 64 * 1024;
/// Audit entries per page of `GET /api/v1/audit`.
const MAX_AUDIT_PAGE: usize = 1000;

#[http_component]
fn handle(req: Request) -> Response {
    platform::respond(|| {
        let now = platform::now();
        match platform::component_route(&req).as_str() {
            "/api/v1/audit" => audit_log(&req, now),
            _ => records(&req, now),
        }
    })
}

fn records(req: &Request, now: DateTime<Utc>) -> Result<Response, Error> {
    let info = platform::path_info(req);
    let id = info.trim_matches('/');
    if id.is_empty() {
        match req.method() {
            Method::Put => upsert_batch(req, now),
            Method::Get => list(req, now),
            _ => Err(Error::MethodNotAllowed {
                allowed: "GET, PUT".into(),
            }),
        }
    } else {
        match req.method() {
            Method::Get => show(req, id, now),
            Method::Delete => withdraw(req, id, now),
            _ => Err(Error::MethodNotAllowed {
                allowed: "GET, DELETE".into(),
            }),
        }
    }
}

/// The submitted items: each a JSON value, or the parse error of its NDJSON
/// line (a bad line rejects that item only).
fn batch_items(req: &Request) -> Result<Vec<Result<Value, Error>>, Error> {
    let body = platform::body_within(req, MAX_BATCH_BYTES)?;
    let items: Vec<Result<Value, Error>> = match platform::content_type(req).as_deref() {
        Some("application/json") | None => match serde_json::from_slice(body) {
            Ok(Value::Array(items)) => items.into_iter().map(Ok).collect(),
            Ok(_) => {
                return Err(Error::InvalidJson(
                    "请求体应为记录数组，或以 application/x-ndjson 逐行提交".into(),
                ));
            }
            Err(e) => return Err(Error::InvalidJson(e.to_string())),
        },
        Some("application/x-ndjson") => {
            let text = std::str::from_utf8(body)
                .map_err(|_| Error::InvalidJson("请求体不是 UTF-8 文本".into()))?;
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(|line| {
                    serde_json::from_str(line).map_err(|e| Error::InvalidJson(e.to_string()))
                })
                .collect()
        }
        Some(other) => {
            return Err(Error::UnsupportedMediaType(format!(
                "{other}，请使用 application/json（记录数组）或 application/x-ndjson（每行一条）"
            )));
        }
    };
    if items.len() > MAX_ITEMS {
        return Err(Error::TooManyItems { limit: MAX_ITEMS });
    }
    Ok(items)
}

fn upsert_batch(req: &Request, now: DateTime<Utc>) -> Result<Response, Error> {
    let principal = platform::principal(req, now)?;
    principal.require(&[Role::Department, Role::Admin])?;
    let items = batch_items(req)?;
    let kv = platform::store()?;
    let store = Store::new(&kv);
    let actor = principal.audit_name();
    let client = platform::client_addr(req);
    let mut counts = [0usize; 4];
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let outcome = item
            .and_then(|value| Record::from_json(&value))
            .and_then(|record| {
                if !matches!(principal, Principal::Admin { .. }) {
                    principal.require_write(record.domain())?;
                }
                let (uscc, document_no) = (
                    record.uscc().to_string(),
                    record.common().document_no.clone(),
                );
                let upserted = store.upsert_record(record, &actor, now)?;
                if upserted.change != Change::Unchanged {
                    let entry = AuditEntry::new(
                        Some(&principal),
                        "records.upsert",
                        change_name(upserted.change),
                        now,
                    )
                    .target(&upserted.id)
                    .client(&client)
                    .details(json!({
                        "uscc": uscc,
                        "document_no": document_no,
                        "revoked_reports": upserted.revoked,
                    }));
                    audit::append(&kv, &entry)?;
                }
                Ok(upserted)
            });
        results.push(match outcome {
            Ok(upserted) => {
                counts[upserted.change as usize] += 1;
                let mut result = json!({
                    "index": index,
                    "status": change_name(upserted.change),
                    "id": upserted.id,
                });
                if !upserted.revoked.is_empty() {
                    result["revoked_reports"] = json!(upserted.revoked);
                }
                result
            }
            Err(error) => {
                counts[3] += 1;
                if error.status() >= 500 {
                    eprintln!("records: item {index}: {error:?}");
                }
                json!({"index": index, "status": "rejected", "problem": error.to_problem()})
            }
        });
    }
    let summary = json!({
        "total": results.len(),
        "created": counts[Change::Created as usize],
        "updated": counts[Change::Updated as usize],
        "unchanged": counts[Change::Unchanged as usize],
        "rejected": counts[3],
    });
    let entry = AuditEntry::new(Some(&principal), "records.batch", "processed", now)
        .client(&client)
        .details(summary.clone());
    audit::append(&kv, &entry)?;
    Ok(platform::json(
        200,
        &json!({"summary": summary, "results": results}),
    ))
}

fn change_name(change: Change) -> &'static str {
    match change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::Unchanged => "unchanged",
    }
}

/// `?uscc=`; an entity may leave it out for its own records.
fn requested_entity(req: &Request, principal: &Principal) -> Result<CreditCode, Error> {
    match (platform::query_param(req, "uscc"), principal) {
        (Some(code), _) => code
            .trim()
            .parse()
            .map_err(|e: credit_core::uscc::UsccError| e.for_field("uscc")),
        (None, Principal::Entity { uscc, .. }) => Ok(uscc.clone()),
        (None, _) => Err(Error::MissingField {
            field: "uscc".into(),
        }),
    }
}

fn require_read(principal: &Principal, uscc: &CreditCode) -> Result<(), Error> {
    if principal.can_read_entity(uscc) {
        Ok(())
    } else {
        Err(Error::Forbidden("市场主体只能查看本主体的记录".into()))
    }
}

fn list(req: &Request, now: DateTime<Utc>) -> Result<Response, Error> {
    let principal = platform::principal(req, now)?;
    let uscc = requested_entity(req, &principal)?;
    require_read(&principal, &uscc)?;
    let kv = platform::store()?;
    let records = Store::new(&kv).records_of(&uscc)?;
    Ok(platform::json(
        200,
        &json!({"uscc": uscc, "count": records.len(), "records": records}),
    ))
}

fn stored(kv: &impl KeyValue, id: &str) -> Result<StoredRecord, Error> {
    let id: RecordId = id.parse()?;
    Store::new(kv)
        .get_record(&id)?
        .ok_or_else(|| Error::NotFound(format!("没有编号为 {id} 的记录")))
}

fn show(req: &Request, id: &str, now: DateTime<Utc>) -> Result<Response, Error> {
    let principal = platform::principal(req, now)?;
    let kv = platform::store()?;
    let record = stored(&kv, id)?;
    require_read(&principal, record.record.uscc())?;
    Ok(platform::json(200, &record))
}

/// The withdrawal reason: JSON `{"reason"}` or `?reason=`.
fn reason(req: &Request) -> Result<String, Error> {
    let body = platform::body_within(req, MAX_SMALL_BODY_BYTES)?;
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let value: Value = platform::json_body(req)?;
        match value.get("reason") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(Error::InvalidField {
                    field: "reason".into(),
                    detail: "应为字符串".into(),
                });
            }
        }
    };
    Ok(from_body
        .or_else(|| platform::query_param(req, "reason"))
        .unwrap_or_default())
}

fn withdraw(req: &Request, id: &str, now: DateTime<Utc>) -> Result<Response, Error> {
    let principal = platform::principal(req, now)?;
    principal.require(&[Role::Department, Role::Admin])?;
    let reason = reason(req)?;
    let kv = platform::store()?;
    let record = stored(&kv, id)?;
    if !matches!(principal, Principal::Admin { .. }) {
        principal.require_write(record.record.domain())?;
    }
    let changed =
        Store::new(&kv).withdraw_record(&record.id, &reason, &principal.audit_name(), now)?;
    let entry = AuditEntry::new(Some(&principal), "record.withdraw", "withdrawn", now)
        .target(&record.id)
        .client(platform::client_addr(req))
        .details(json!({
            "uscc": record.record.uscc(),
            "document_no": record.record.common().document_no,
            "reason": reason.trim(),
            "revoked_reports": changed.revoked,
        }));
    audit::append(&kv, &entry)?;
    Ok(platform::json(
        200,
        &json!({"record": changed.record, "revoked_reports": changed.revoked}),
    ))
}

fn audit_log(req: &Request, now: DateTime<Utc>) -> Result<Response, Error> {
    if req.method() != &Method::Get {
        return Err(Error::MethodNotAllowed {
            allowed: "GET".into(),
        });
    }
    let principal = platform::principal(req, now)?;
    principal.require(&[Role::Admin])?;
    let date = match platform::query_param(req, "date") {
        None => audit::today(now),
        Some(text) => {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| Error::InvalidField {
                field: "date".into(),
                detail: format!("“{text}”应为 YYYY-MM-DD 格式的日期"),
            })?
        }
    };
    let number = |name: &str, default: u64, max: u64| match platform::query_param(req, name) {
        None => Ok(default),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(n) if n <= max => Ok(n),
            _ => Err(Error::InvalidField {
                field: name.into(),
                detail: format!("“{text}”应为 0 到 {max} 之间的整数"),
            }),
        },
    };
    let after = number("after", 0, u64::MAX)?;
    let limit = number("limit", MAX_AUDIT_PAGE as u64, MAX_AUDIT_PAGE as u64)? as usize;
    let kv = platform::store()?;
    let entries = audit::list_day(&kv, date, after, limit)?;
    let next_after = (entries.len() == limit && limit > 0).then(|| after + limit as u64);
    Ok(platform::json(
        200,
        &json!({
            "date": date,
            "after": after,
            "entries": entries,
            "next_after": next_after,
        }),
    ))
}
