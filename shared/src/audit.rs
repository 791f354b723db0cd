//! The audit log: every write, every report issued and every verification
//! appends one entry. Entries are never read-modified-written: each takes a
//! slot in its China-time day's list ([`keys::audit_day`]) and is written
//! once, so the admin lists a day without a scan.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Principal;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::store::{BATCH, keys};
use crate::window::{china_date, in_china};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<FixedOffset>,
    /// The principal's audit name (`role:sub…`), or "public" for anonymous
    /// verifiers.
    pub actor: String,
    /// For counter staff: the entity (credit code) they act for.
    pub on_behalf_of: Option<String>,
    /// e.g. "records.upsert", "report.issue", "verify.code", "record.withdraw".
    pub action: String,
    /// What was acted on: a record id, report number, credit code.
    pub target: Option<String>,
    /// e.g. "created", "VALID", or an error code.
    pub outcome: String,
    /// The client's address, where known.
    pub client: Option<String>,
    /// Anything else worth keeping (never uploaded files or secrets).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

impl AuditEntry {
    /// An entry stamped at `now`, by `principal` (None: anonymous public).
    pub fn new(
        principal: Option<&Principal>,
        action: &str,
        outcome: &str,
        now: DateTime<Utc>,
    ) -> AuditEntry {
        AuditEntry {
            at: in_china(now),
            actor: principal
                .map(Principal::audit_name)
                .unwrap_or_else(|| "public".into()),
            on_behalf_of: None,
            action: action.to_owned(),
            target: None,
            outcome: outcome.to_owned(),
            client: None,
            details: Value::Null,
        }
    }

    pub fn on_behalf_of(mut self, uscc: impl ToString) -> Self {
        self.on_behalf_of = Some(uscc.to_string());
        self
    }

    pub fn target(mut self, target: impl ToString) -> Self {
        self.target = Some(target.to_string());
        self
    }

    pub fn client(mut self, addr: impl ToString) -> Self {
        self.client = Some(addr.to_string());
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// Appends an entry under its China-time day; returns its key.
pub fn append(kv: &(impl KeyValue + ?Sized), entry: &AuditEntry) -> Result<String, Error> {
    let list = keys::audit_day(entry.at.date_naive());
    let slot = kv.increment(&list.counter(), 1)?;
    let key = list.slot(slot.max(0) as u64);
    let bytes =
        serde_json::to_vec(entry).map_err(|e| Error::Internal(format!("audit serialize: {e}")))?;
    kv.set(&key, &bytes)?;
    Ok(key)
}

/// The entries of one China-time day, in order of appending. `after`
/// skips that many (paging); at most `limit` are returned.
pub fn list_day(
    kv: &(impl KeyValue + ?Sized),
    day: NaiveDate,
    after: u64,
    limit: usize,
) -> Result<Vec<AuditEntry>, Error> {
    let list = keys::audit_day(day);
    let n = appended_on(kv, day)?;
    let slots: Vec<String> = (after + 1..=n).take(limit).map(|i| list.slot(i)).collect();
    let mut out = Vec::with_capacity(slots.len());
    for chunk in slots.chunks(BATCH) {
        for (key, value) in chunk.iter().zip(kv.get_many(chunk)?) {
            if let Some(bytes) = value {
                out.push(
                    serde_json::from_slice(&bytes)
                        .map_err(|e| Error::Internal(format!("corrupt {key}: {e}")))?,
                );
            }
        }
    }
    Ok(out)
}

/// How many slots the day's appends have claimed. A slot stays empty when the write of its
/// entry failed after the claim (the store went down, or the node died, in between).
pub fn appended_on(kv: &(impl KeyValue + ?Sized), day: NaiveDate) -> Result<u64, Error> {
    Ok(kv.increment(&keys::audit_day(day).counter(), 0)?.max(0) as u64)
}

/// Today's date in China, for callers listing "today".
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    china_date(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::MemoryStore;
    use chrono::TimeZone;

    #[test]
    fn appends_and_lists_by_china_day_with_both_identities() {
        let kv = MemoryStore::new();
        // 2026-11-28T17:00Z is already 2026-11-29 in China.
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 17, 0, 0).unwrap();
        let staff = Principal::Staff {
            sub: "clerk7".into(),
            unit: None,
        };
        let entry = AuditEntry::new(Some(&staff), "report.issue", "created", now)
            .on_behalf_of("91350200776049653A")
            .target("YC20261129-000001")
            .client("127.0.0.1");
        append(&kv, &entry).unwrap();
        append(&kv, &AuditEntry::new(None, "verify.code", "NOT_FOUND", now)).unwrap();
        let day: NaiveDate = "2026-11-29".parse().unwrap();
        let listed = list_day(&kv, day, 0, 100).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0], entry);
        assert_eq!(listed[0].actor, "staff:clerk7");
        assert_eq!(listed[1].actor, "public");
        assert_eq!(list_day(&kv, day, 1, 100).unwrap().len(), 1);
        assert!(
            list_day(&kv, "2026-11-28".parse().unwrap(), 0, 100)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn concurrent_appends_lose_nothing() {
        let kv = MemoryStore::new();
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap();
        std::thread::scope(|s| {
            for t in 0..8 {
                let kv = &kv;
                s.spawn(move || {
                    for i in 0..50 {
                        append(
                            kv,
                            &AuditEntry::new(None, "verify.code", "VALID", now)
                                .target(format!("{t}-{i}")),
                        )
                        .unwrap();
                    }
                });
            }
        });
        assert_eq!(list_day(&kv, today(now), 0, 1000).unwrap().len(), 400);
    }
}
