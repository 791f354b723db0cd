//! Department intake of records and what may be read of them:
//! `PUT /api/v1/records` (a batch: JSON array, NDJSON or CSV), listing an
//! entity's records, reading one, withdrawing one, the CSV templates.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::audit;
use crate::auth::Principal;
use crate::catalog::catalog;
use crate::codes::ReportNo;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::{Cursor, PageRequest};
use crate::record::fields::{KINDS, kind_spec};
use crate::record::{Record, RecordId, StoredRecord, Warning, csv};
use crate::stats::{self, BatchTally, RejectionExample};
use crate::store::{Change, Store, Upserted};
use crate::text::without_bom;
use crate::uscc::CreditCode;
use crate::vocabulary::{ItemResult, RecordKind, RevocationCategory};
use crate::window::{china_date, in_china};

use super::Caller;

/// Items per batch.
pub const MAX_ITEMS: usize = 1000;

/// One submitted item: its JSON value, or why its line could not be read (a
/// bad line rejects that item only), and the line of the body it came from
/// (NDJSON and CSV; 1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub value: Result<Value, Error>,
    pub line: Option<u64>,
}

/// The items of a batch body, and for CSV the column each field was read
/// from, so a problem names the column as the file writes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    pub items: Vec<Item>,
    pub columns: BTreeMap<String, String>,
}

/// The items of a batch body: a JSON array (`application/json`, also when
/// no media type is given), one JSON value a line (`application/x-ndjson`)
/// or CSV with a header row (`text/csv`). `defaults` (`kind`, `domain`,
/// `procedure`) fill in what CSV rows leave out.
pub fn batch_items(
    media_type: Option<&str>,
    body: &[u8],
    defaults: &[(&str, String)],
) -> Result<Batch, Error> {
    let body = without_bom(body);
    let batch = match media_type {
        Some("application/json") | None => match serde_json::from_slice(body) {
            Ok(Value::Array(items)) => Batch {
                items: items
                    .into_iter()
                    .map(|value| Item {
                        value: Ok(value),
                        line: None,
                    })
                    .collect(),
                columns: BTreeMap::new(),
            },
            Ok(_) => {
                return Err(Error::InvalidJson(
                    "请求体应为记录数组，或以 application/x-ndjson 逐行提交，或以 text/csv 提交表格"
                        .into(),
                ));
            }
            Err(e) => return Err(Error::from(&e)),
        },
        Some("application/x-ndjson") => {
            let text = std::str::from_utf8(body)
                .map_err(|_| Error::InvalidJson("请求体不是 UTF-8 文本".into()))?;
            let items = text
                .lines()
                .zip(1u64..)
                .filter(|(line, _)| !line.trim().is_empty())
                .map(|(line, number)| Item {
                    value: serde_json::from_str(line.trim()).map_err(|e| Error::from(&e)),
                    line: Some(number),
                })
                .collect();
            Batch {
                items,
                columns: BTreeMap::new(),
            }
        }
        Some("text/csv") => {
            let table = csv::read(body, defaults)?;
            Batch {
                items: table
                    .rows
                    .into_iter()
                    .map(|row| Item {
                        value: Ok(row.value),
                        line: Some(row.line),
                    })
                    .collect(),
                columns: table.columns,
            }
        }
        Some(other) => {
            return Err(Error::UnsupportedMediaType(format!(
                "{other}，请使用 application/json（记录数组）、application/x-ndjson（每行一条）或 text/csv（双公示表格）"
            )));
        }
    };
    if batch.items.len() > MAX_ITEMS {
        return Err(Error::TooManyItems { limit: MAX_ITEMS });
    }
    Ok(batch)
}

/// The defaults a batch query may give (`?kind=&domain=&procedure=`).
pub fn batch_defaults(param: impl Fn(&str) -> Option<String>) -> Vec<(&'static str, String)> {
    csv::DEFAULTABLE
        .into_iter()
        .filter_map(|name| {
            param(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .map(|v| (name, v))
        })
        .collect()
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
    /// The line of the body the item starts on, from 1 (NDJSON and CSV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub status: ItemResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<RecordId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked_reports: Vec<ReportNo>,
    /// The first of `problems`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Value>,
    /// Every reason the item was rejected, in the order of the kind's fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Value>,
    /// What the unit should look at, accepted or not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    pub total: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    /// Items answered with at least one warning.
    pub warned: usize,
}

#[derive(Debug, Serialize)]
pub struct BatchResult {
    pub summary: BatchSummary,
    pub results: Vec<ItemAnswer>,
}

/// What one item came to before it is numbered.
struct Outcome {
    upserted: Result<Upserted, Vec<Error>>,
    warnings: Vec<Warning>,
    /// The record's domain and kind, once the item parsed.
    parsed: Option<(String, RecordKind)>,
}

/// Stores every valid item the caller may write, each answered in order;
/// an item's failure rejects that item only. Every change and the batch
/// itself are audited.
pub fn upsert_batch(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    batch: Batch,
) -> Result<BatchResult, Error> {
    caller.principal.require_record_writer()?;
    let store = Store::new(kv);
    let Batch { items, columns } = batch;
    let mut summary = BatchSummary {
        total: items.len(),
        ..BatchSummary::default()
    };
    let mut results = Vec::with_capacity(items.len());
    let mut tallies = BatchTallies::default();
    for (index, item) in items.into_iter().enumerate() {
        let item_domain = item
            .value
            .as_ref()
            .ok()
            .and_then(|v| v.get("domain"))
            .and_then(Value::as_str)
            .map(|d| d.trim().to_owned());
        let outcome = match item.value {
            Ok(value) => upsert_one(kv, &store, caller, &value),
            Err(error) => Outcome {
                upserted: Err(vec![error]),
                warnings: Vec::new(),
                parsed: None,
            },
        };
        tallies.count(caller, &item_domain, &outcome, index, item.line);
        let warnings: Vec<Value> = outcome
            .warnings
            .iter()
            .map(|w| with_column(json!(w), &columns))
            .collect();
        let result = match outcome.upserted {
            Ok(upserted) => ItemAnswer {
                index,
                line: item.line,
                status: upserted.change.into(),
                id: Some(upserted.id),
                revoked_reports: upserted.revoked,
                problem: None,
                problems: Vec::new(),
                warnings,
            },
            Err(errors) => {
                let problems: Vec<Value> = errors
                    .iter()
                    .map(|e| with_column(e.to_problem(), &columns))
                    .collect();
                ItemAnswer {
                    index,
                    line: item.line,
                    status: ItemResult::Rejected,
                    id: None,
                    revoked_reports: Vec::new(),
                    problem: problems.first().cloned(),
                    problems,
                    warnings,
                }
            }
        };
        match result.status {
            ItemResult::Created => summary.created += 1,
            ItemResult::Updated => summary.updated += 1,
            ItemResult::Unchanged => summary.unchanged += 1,
            ItemResult::Rejected => summary.rejected += 1,
        }
        if !result.warnings.is_empty() {
            summary.warned += 1;
        }
        results.push(result);
    }
    tallies.store(&store, caller)?;
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

/// What a batch changes in the collection figures, by data domain, and
/// for a department's rejected items that named none of its domains, by
/// its unit.
#[derive(Default)]
struct BatchTallies {
    domains: BTreeMap<String, BatchTally>,
    unit: BatchTally,
}

impl BatchTallies {
    fn count(
        &mut self,
        caller: &Caller,
        item_domain: &Option<String>,
        outcome: &Outcome,
        index: usize,
        line: Option<u64>,
    ) {
        match (&outcome.upserted, &outcome.parsed) {
            (Ok(upserted), Some((domain, kind))) => {
                let tally = self.domains.entry(domain.clone()).or_default();
                tally.accepted += 1;
                if upserted.change == Change::Created {
                    *tally.created.entry(kind.as_str().to_owned()).or_default() += 1;
                }
            }
            (Ok(_), None) => {}
            (Err(errors), parsed) => {
                let Some(first) = errors.first() else { return };
                let example = RejectionExample {
                    at: in_china(caller.now),
                    field: first
                        .to_problem()
                        .get("field")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    line,
                    index,
                };
                let rejection = (first.code().to_owned(), example);
                // The unit answering for the domain the item names, when
                // the caller is that unit (or the administrator).
                let domain = parsed
                    .as_ref()
                    .map(|(d, _)| d.clone())
                    .or_else(|| item_domain.clone())
                    .filter(|d| catalog().data_domain(d).is_some())
                    .filter(|d| caller.principal.require_write(d).is_ok());
                match domain {
                    Some(domain) => self
                        .domains
                        .entry(domain)
                        .or_default()
                        .rejected
                        .push(rejection),
                    None => self.unit.rejected.push(rejection),
                }
            }
        }
    }

    /// One compare-and-swap per domain the batch touched, and one for the
    /// unit's other rejections.
    fn store(
        self,
        store: &Store<'_, impl KeyValue + ?Sized>,
        caller: &Caller,
    ) -> Result<(), Error> {
        for (domain, tally) in &self.domains {
            store.tally_domain_batch(domain, tally, caller.now)?;
        }
        if let Principal::Department { unit, .. } = &caller.principal
            && !self.unit.is_empty()
        {
            let unit = stats::catalog_unit(unit).unwrap_or_else(|| unit.clone());
            store.tally_unit_batch(&unit, &self.unit, caller.now)?;
        }
        Ok(())
    }
}

/// Adds the CSV column a problem's field was read from.
fn with_column(mut problem: Value, columns: &BTreeMap<String, String>) -> Value {
    let column = problem
        .get("field")
        .and_then(Value::as_str)
        .and_then(|field| columns.get(field))
        .cloned();
    if let (Some(column), Some(object)) = (column, problem.as_object_mut()) {
        object.insert("column".into(), json!(column));
    }
    problem
}

/// One item: checked, authorised, stored. Any failure, the store's too,
/// rejects this item only.
fn upsert_one(
    kv: &(impl KeyValue + ?Sized),
    store: &Store<'_, impl KeyValue + ?Sized>,
    caller: &Caller,
    value: &Value,
) -> Outcome {
    let checked = match Record::check(value, Some(china_date(caller.now))) {
        Ok(checked) => checked,
        Err(rejected) => {
            return Outcome {
                upserted: Err(rejected.problems),
                warnings: rejected.warnings,
                parsed: None,
            };
        }
    };
    let (record, mut warnings) = (checked.record, checked.warnings);
    let parsed = Some((record.domain().to_owned(), record.kind()));
    // Authorised first: the name on file is told only to a unit that may write the record.
    let upserted = caller
        .principal
        .require_write(record.domain())
        .and_then(|()| name_on_file_differs(store, &record))
        .and_then(|differs| {
            warnings.extend(differs);
            store_one(kv, store, caller, record)
        });
    Outcome {
        upserted: upserted.map_err(|e| vec![e]),
        warnings,
        parsed,
    }
}

fn store_one(
    kv: &(impl KeyValue + ?Sized),
    store: &Store<'_, impl KeyValue + ?Sized>,
    caller: &Caller,
    record: Record,
) -> Result<Upserted, Error> {
    let (uscc, document_no) = (
        record.uscc().to_string(),
        record.common().document_no.clone(),
    );
    let (name, uscc_code) = (record.common().entity_name.clone(), record.uscc().clone());
    let upserted = store.upsert_record(record, &caller.principal.audit_name(), caller.now)?;
    store.note_name(&uscc_code, &name, &upserted.id)?;
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

/// A credit code already on file under another name: the unit is told, so
/// a mistyped code is not silently printed on another company's report.
fn name_on_file_differs(
    store: &Store<'_, impl KeyValue + ?Sized>,
    record: &Record,
) -> Result<Option<Warning>, Error> {
    let (id, name) = (record.id(), &record.common().entity_name);
    let on_file = store.names_on_file(record.uscc())?;
    Ok(on_file.other_than(name, &id).map(|other| {
            Warning::new(
                Warning::ENTITY_NAME_DIFFERS,
                "entity_name",
                format!(
                    "统一社会信用代码 {} 已有记录的主体名称为“{other}”，与本条“{name}”不一致：请核对代码和名称，报告按代码归集",
                    record.uscc()
                ),
            )
        }))
}

/// The CSV template of a kind: its header row, UTF-8 with a BOM so
/// spreadsheets open it in the right encoding.
pub fn csv_template(kind: &str) -> Result<String, Error> {
    let kind = RecordKind::parse(kind).ok_or_else(|| {
        Error::NotFound(format!(
            "没有“{kind}”类型的模板，可用：{}",
            KINDS
                .iter()
                .map(|k| k.kind.as_str())
                .collect::<Vec<_>>()
                .join("、")
        ))
    })?;
    Ok(format!("\u{feff}{}\r\n", kind_spec(kind).csv_header()))
}

/// One page of an entity's records with their status.
#[derive(Debug, Serialize)]
pub struct EntityRecords {
    pub uscc: CreditCode,
    /// Records on this page.
    pub count: usize,
    pub records: Vec<StoredRecord>,
    /// Where the next page starts; `null` on the last.
    pub next_cursor: Option<Cursor>,
}

/// A page of the records of the entity named by `?uscc=` (an entity may
/// leave it out for its own), in the order they were first stored. A
/// department's page holds its domains' records only, so it may be short.
pub fn records_of(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    requested: Option<CreditCode>,
    page: &PageRequest,
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
    let listed = Store::new(kv).records_page(&uscc, page.cursor.as_ref(), page.limit)?;
    let records: Vec<StoredRecord> = listed
        .items
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
        next_cursor: listed.next,
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
/// unexpired report that showed it. A record already withdrawn or
/// repaired is a conflict.
pub fn withdraw(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    id: &str,
    reason: &str,
) -> Result<Withdrawn, Error> {
    caller.principal.require_record_writer()?;
    let record = stored(kv, id)?;
    // As for reading: a refusal naming the domain would confirm the record.
    if !in_domains_read(&caller.principal, &record) {
        return Err(not_found(&record.id));
    }
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

/// The reason for a withdrawal: `reason` of the JSON body (`{}` when the
/// request has none), else the `?reason=` parameter, else none.
pub fn withdrawal_reason(body: &Value, query: Option<String>) -> Result<String, Error> {
    let from_body = match body.get("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(Error::InvalidField {
                field: "reason".into(),
                detail: "应为字符串".into(),
            });
        }
    };
    Ok(from_body.or(query).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::MemoryStore;
    use crate::record::samples::{ENTITY, penalty};
    use crate::vocabulary::RecordStatus;
    use chrono::{TimeZone, Utc};

    fn tax_officer() -> Caller {
        Caller {
            principal: Principal::Department {
                sub: "officer".into(),
                unit: "县税务局".into(),
            },
            client: "127.0.0.1".into(),
            now: Utc.with_ymd_and_hms(2026, 6, 1, 2, 0, 0).unwrap(),
        }
    }

    fn csv_of(records: &[Value]) -> String {
        let spec = kind_spec(RecordKind::Penalty);
        let mut text = format!("{}\n", spec.csv_header());
        for record in records {
            let cells: Vec<String> = spec
                .fields
                .iter()
                .map(|f| match &record[f.name] {
                    Value::String(s) => format!("\"{s}\""),
                    Value::Array(words) => words
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("；"),
                    Value::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
                    _ => String::new(),
                })
                .collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        text
    }

    #[test]
    fn csv_and_json_of_the_same_records_get_the_same_answers() {
        let mut bad = penalty("永税罚〔2026〕2号", "2026-03-01");
        bad["uscc"] = json!("91350200776049653B");
        bad["document_no"] = json!("");
        let good = penalty("永税罚〔2026〕1号", "2026-03-01");
        let csv_batch = batch_items(
            Some("text/csv"),
            csv_of(&[good.clone(), bad.clone()]).as_bytes(),
            &[],
        )
        .unwrap();
        let json_body = serde_json::to_vec(&json!([good, bad])).unwrap();
        let json_batch = batch_items(None, &json_body, &[]).unwrap();
        let csv_answer = upsert_batch(&MemoryStore::new(), &tax_officer(), csv_batch).unwrap();
        let json_answer = upsert_batch(&MemoryStore::new(), &tax_officer(), json_batch).unwrap();
        assert_eq!(csv_answer.summary, json_answer.summary);
        let rejected = &csv_answer.results[1];
        assert_eq!(
            (rejected.status, rejected.line),
            (ItemResult::Rejected, Some(3))
        );
        let named: Vec<(&str, &str, &str)> = rejected
            .problems
            .iter()
            .map(|p| {
                (
                    p["code"].as_str().unwrap(),
                    p["field"].as_str().unwrap(),
                    p["column"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            named,
            [
                ("INVALID_USCC", "uscc", "统一社会信用代码"),
                ("MISSING_FIELD", "document_no", "行政处罚决定书文号"),
            ]
        );
        let json_codes: Vec<&Value> = json_answer.results[1]
            .problems
            .iter()
            .map(|p| &p["code"])
            .collect();
        assert_eq!(
            json_codes,
            [&json!("INVALID_USCC"), &json!("MISSING_FIELD")]
        );
        assert_eq!(rejected.problem.as_ref(), rejected.problems.first());
    }

    #[test]
    fn a_credit_code_on_file_under_another_name_is_warned_to_the_unit() {
        let kv = MemoryStore::new();
        let first = penalty("永税罚〔2026〕1号", "2026-03-01");
        let mut second = penalty("永税罚〔2026〕2号", "2026-03-02");
        second["entity_name"] = json!("另一家公司");
        let body = serde_json::to_vec(&json!([first, second])).unwrap();
        let answer =
            upsert_batch(&kv, &tax_officer(), batch_items(None, &body, &[]).unwrap()).unwrap();
        assert_eq!(answer.results[0].warnings, Vec::<Value>::new());
        let warning = &answer.results[1].warnings[0];
        assert_eq!(answer.results[1].status, ItemResult::Created);
        assert_eq!(warning["code"], Warning::ENTITY_NAME_DIFFERS);
        assert!(
            warning["detail"]
                .as_str()
                .unwrap()
                .contains("永昌县示例商贸有限公司")
        );
        assert!(warning["detail"].as_str().unwrap().contains(ENTITY));
        assert_eq!(answer.summary.warned, 1);
    }

    #[test]
    fn defaults_fill_what_csv_rows_leave_out_and_bad_bodies_say_why_in_chinese() {
        let mut record = penalty("永税罚〔2026〕1号", "2026-03-01");
        record["kind"] = json!("");
        record["domain"] = json!("");
        let body = csv_of(&[record]);
        let defaults = batch_defaults(|name| match name {
            "kind" => Some("penalty".into()),
            "domain" => Some(" tax ".into()),
            _ => None,
        });
        let batch = batch_items(Some("text/csv"), body.as_bytes(), &defaults).unwrap();
        let answer = upsert_batch(&MemoryStore::new(), &tax_officer(), batch).unwrap();
        assert_eq!(answer.results[0].status, ItemResult::Created);
        let broken = batch_items(None, b"[{\"kind\": }]", &[]).unwrap_err();
        assert_eq!(broken.code(), "INVALID_JSON");
        assert!(broken.to_string().contains("第 1 行"), "{broken}");
        assert!(
            csv_template("penalty")
                .unwrap()
                .starts_with("\u{feff}记录类型,领域,行政相对人名称")
        );
        assert_eq!(csv_template("fine").unwrap_err().code(), "NOT_FOUND");
    }

    /// Windows tools write a byte-order mark before JSON as before CSV: it is read past.
    #[test]
    fn a_byte_order_mark_is_read_past_in_every_media_type() {
        let record = penalty("永税罚〔2026〕1号", "2026-03-01");
        let bom = |text: String| [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        for (media_type, body) in [
            (Some("application/json"), bom(json!([record]).to_string())),
            (Some("application/x-ndjson"), bom(format!("{record}\n"))),
            (Some("text/csv"), bom(csv_of(std::slice::from_ref(&record)))),
        ] {
            let batch = batch_items(media_type, &body, &[]).unwrap();
            assert!(
                matches!(&batch.items[..], [item] if item.value.is_ok()),
                "{media_type:?}: {batch:?}"
            );
        }
    }

    #[test]
    fn a_record_is_withdrawn_once_and_only_by_a_unit_that_may_read_it() {
        let kv = MemoryStore::new();
        let officer = tax_officer();
        let body = serde_json::to_vec(&json!([
            penalty("永税罚〔2026〕1号", "2026-03-01"),
            penalty("永税罚〔2026〕2号", "2026-03-02"),
        ]))
        .unwrap();
        let answer = upsert_batch(&kv, &officer, batch_items(None, &body, &[]).unwrap()).unwrap();
        let ids: Vec<String> = answer
            .results
            .iter()
            .map(|r| r.id.as_ref().unwrap().to_string())
            .collect();
        let withdrawals = || {
            crate::audit::list_day(&kv, crate::audit::today(officer.now), 0, 1000)
                .unwrap()
                .into_iter()
                .filter(|e| e.action == "record.withdraw")
                .count()
        };

        let market_officer = Caller {
            principal: Principal::Department {
                sub: "inspector".into(),
                unit: "县市场监管局".into(),
            },
            ..tax_officer()
        };
        let hidden = withdraw(&kv, &market_officer, &ids[0], "无权撤销").unwrap_err();
        let missing = withdraw(&kv, &market_officer, &"0".repeat(32), "无此记录").unwrap_err();
        assert_eq!((hidden.code(), missing.code()), ("NOT_FOUND", "NOT_FOUND"));
        assert!(!hidden.to_string().contains("tax"), "{hidden}");

        let first = withdraw(&kv, &officer, &ids[0], "复议撤销").unwrap();
        assert_eq!(first.record.status, RecordStatus::Withdrawn);
        let again = withdraw(&kv, &officer, &ids[0], "另一个理由").unwrap_err();
        assert_eq!((again.code(), again.status()), ("CONFLICT", 409));
        let kept = record(&kv, &officer, &ids[0]).unwrap();
        assert_eq!(kept.status_reason.as_deref(), Some("复议撤销"));
        assert_eq!(withdrawals(), 1);

        Store::new(&kv)
            .set_record_status(
                &ids[1].parse().unwrap(),
                RecordStatus::Repaired,
                "已完成信用修复",
                "department:officer",
                officer.now,
            )
            .unwrap();
        let repaired = withdraw(&kv, &officer, &ids[1], "撤销").unwrap_err();
        assert_eq!(repaired.code(), "CONFLICT");
        assert_eq!(withdrawals(), 1);
    }

    #[test]
    fn the_withdrawal_reason_is_the_bodys_else_the_querys() {
        let query = || Some("来自参数".to_owned());
        assert_eq!(
            withdrawal_reason(&json!({"reason": "复议撤销"}), query()).unwrap(),
            "复议撤销"
        );
        assert_eq!(withdrawal_reason(&json!({}), query()).unwrap(), "来自参数");
        assert_eq!(
            withdrawal_reason(&json!({"reason": null}), None).unwrap(),
            ""
        );
        let error = withdrawal_reason(&json!({"reason": 1}), query()).unwrap_err();
        assert_eq!(
            (error.code(), error.field()),
            ("INVALID_FIELD", Some("reason"))
        );
    }
}
