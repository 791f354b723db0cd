//! Department intake of records and what may be read of them:
//! `PUT /api/v1/records` (a batch, JSON array or NDJSON), listing an
//! entity's records, reading one, withdrawing one.

use serde::Serialize;
use serde_json::{Value, json};

use crate::audit;
use crate::auth::Principal;
use crate::codes::ReportNo;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::record::{Record, RecordId, StoredRecord};
use crate::store::{Change, Store, Upserted};
use crate::uscc::CreditCode;
use crate::vocabulary::{ItemResult, RevocationCategory};

use super::Caller;

/// Items per batch.
pub const MAX_ITEMS: usize = 1000;

/// One submitted item: its JSON value, or why its NDJSON line could not be
/// read (a bad line rejects that item only).
pub type Item = Result<Value, Error>;

/// The items of a batch body: a JSON array (`application/json`, also when
/// no media type is given) or one JSON value a line (`application/x-ndjson`).
pub fn batch_items(media_type: Option<&str>, body: &[u8]) -> Result<Vec<Item>, Error> {
    let items: Vec<Item> = match media_type {
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

impl From<Change> for ItemResult {
    fn from(change: Change) -> Self {
        match change {
            Change::Created => ItemResult::Created,
            Change::Updated => ItemResult::Updated,
            Change::Unchanged => ItemResult::Unchanged,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ItemAnswer {
    /// The item's position in the batch, from 0.
    pub index: usize,
    pub status: ItemResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<RecordId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked_reports: Vec<ReportNo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    pub total: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
}

#[derive(Debug, Serialize)]
pub struct BatchResult {
    pub summary: BatchSummary,
    pub results: Vec<ItemAnswer>,
}

/// Stores every valid item the caller may write, each answered in order;
/// an item's failure rejects that item only. Every change and the batch
/// itself are audited.
pub fn upsert_batch(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    items: Vec<Item>,
) -> Result<BatchResult, Error> {
    caller.principal.require_record_writer()?;
    let store = Store::new(kv);
    let mut summary = BatchSummary {
        total: items.len(),
        ..BatchSummary::default()
    };
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let result = match item.and_then(|value| upsert_one(kv, &store, caller, &value)) {
            Ok(upserted) => ItemAnswer {
                index,
                status: upserted.change.into(),
                id: Some(upserted.id),
                revoked_reports: upserted.revoked,
                problem: None,
            },
            Err(error) => ItemAnswer {
                index,
                status: ItemResult::Rejected,
                id: None,
                revoked_reports: Vec::new(),
                problem: Some(error.to_problem()),
            },
        };
        match result.status {
            ItemResult::Created => summary.created += 1,
            ItemResult::Updated => summary.updated += 1,
            ItemResult::Unchanged => summary.unchanged += 1,
            ItemResult::Rejected => summary.rejected += 1,
        }
        results.push(result);
    }
    let summary_json =
        serde_json::to_value(summary).map_err(|e| Error::Internal(format!("serialize: {e}")))?;
    audit::append(
        kv,
        &caller
            .entry("records.batch", "processed")
            .details(summary_json),
    )?;
    Ok(BatchResult { summary, results })
}

fn upsert_one(
    kv: &(impl KeyValue + ?Sized),
    store: &Store<'_, impl KeyValue + ?Sized>,
    caller: &Caller,
    value: &Value,
) -> Result<Upserted, Error> {
    let record = Record::from_json(value)?;
    caller.principal.require_write(record.domain())?;
    let (uscc, document_no) = (
        record.uscc().to_string(),
        record.common().document_no.clone(),
    );
    let upserted = store.upsert_record(record, &caller.principal.audit_name(), caller.now)?;
    if upserted.change != Change::Unchanged {
        let entry = caller
            .entry("records.upsert", ItemResult::from(upserted.change).as_str())
            .target(&upserted.id)
            .details(json!({
                "uscc": uscc,
                "document_no": document_no,
                "revoked_reports": upserted.revoked,
            }));
        audit::append(kv, &entry)?;
    }
    Ok(upserted)
}

/// An entity's records with their status.
#[derive(Debug, Serialize)]
pub struct EntityRecords {
    pub uscc: CreditCode,
    pub count: usize,
    pub records: Vec<StoredRecord>,
}

/// The records of the entity named by `?uscc=` (an entity may leave it out
/// for its own).
pub fn records_of(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    requested: Option<CreditCode>,
) -> Result<EntityRecords, Error> {
    let uscc = match (requested, &caller.principal) {
        (Some(uscc), _) => uscc,
        (None, Principal::Entity { uscc, .. }) => uscc.clone(),
        (None, _) => {
            return Err(Error::MissingField {
                field: "uscc".into(),
            });
        }
    };
    caller.require_acting_for(kv, &uscc)?;
    let records: Vec<StoredRecord> = Store::new(kv)
        .records_of(&uscc)?
        .into_iter()
        .filter(|r| in_domains_read(&caller.principal, r))
        .collect();
    audit::append(
        kv,
        &caller
            .entry_about(&uscc, "records.list", "listed")
            .target(&uscc)
            .details(json!({ "count": records.len() })),
    )?;
    Ok(EntityRecords {
        uscc,
        count: records.len(),
        records,
    })
}

pub fn record(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    id: &str,
) -> Result<StoredRecord, Error> {
    let record = stored(kv, id)?;
    // A record the caller may not read answers as one that does not exist.
    if !(in_domains_read(&caller.principal, &record)
        && caller.acts_for(kv, record.record.uscc())?)
    {
        return Err(not_found(&record.id));
    }
    audit::append(
        kv,
        &caller
            .entry_about(record.record.uscc(), "record.read", "read")
            .target(&record.id),
    )?;
    Ok(record)
}

#[derive(Debug, Serialize)]
pub struct Withdrawn {
    pub record: StoredRecord,
    pub revoked_reports: Vec<ReportNo>,
}

/// Withdraws a record (its unit or the administrator), revoking every
/// unexpired report that showed it.
pub fn withdraw(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    id: &str,
    reason: &str,
) -> Result<Withdrawn, Error> {
    caller.principal.require_record_writer()?;
    let record = stored(kv, id)?;
    caller.principal.require_write(record.record.domain())?;
    let changed = Store::new(kv).withdraw_record(
        &record.id,
        RevocationCategory::RecordWithdrawn,
        reason,
        &caller.principal.audit_name(),
        caller.now,
    )?;
    let entry = caller
        .entry("record.withdraw", "withdrawn")
        .target(&record.id)
        .details(json!({
            "uscc": record.record.uscc(),
            "document_no": record.record.common().document_no,
            "reason": reason.trim(),
            "revoked_reports": changed.revoked,
        }));
    audit::append(kv, &entry)?;
    Ok(Withdrawn {
        record: changed.record,
        revoked_reports: changed.revoked,
    })
}

fn stored(kv: &(impl KeyValue + ?Sized), id: &str) -> Result<StoredRecord, Error> {
    let id: RecordId = id.parse()?;
    Store::new(kv)
        .get_record(&id)?
        .ok_or_else(|| not_found(&id))
}

fn not_found(id: &RecordId) -> Error {
    Error::NotFound(format!("没有编号为 {id} 的记录"))
}

/// A department reads the records of the domains its unit answers for;
/// other roles are limited by entity ([`Caller::acts_for`]), not by domain.
fn in_domains_read(principal: &Principal, record: &StoredRecord) -> bool {
    match principal {
        Principal::Department { .. } => principal.department_may_write(record.record.domain()),
        _ => true,
    }
}

/// The reason for a withdrawal: JSON `{"reason"}` in the body, else the
/// `?reason=` parameter, else none.
pub fn withdrawal_reason(body: &[u8], query: Option<String>) -> Result<String, Error> {
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| Error::InvalidJson(e.to_string()))?;
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
    Ok(from_body.or(query).unwrap_or_default())
}
