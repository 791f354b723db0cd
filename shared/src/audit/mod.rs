//! The audit log, in two parts (docs/decisions.md, "Two audit logs"):
//!
//! - the **change log** ([`chain`]): every write, every report issued, every
//!   read of personal data; per China-time day a hash chain (`seq`, `prev`),
//!   each entry written in the same `set_many` as the change it records;
//! - the **access log** ([`access`]): public verifications, one entry per
//!   request at the slot its rate-limit counter names, no chain (a
//!   compare-and-swap per verification would serialise the hot path).
//!
//! Both are listed and checked a day at a time without a key scan;
//! [`check_day`] names the first missing, altered or unlinked entry.

pub mod access;
pub mod chain;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Principal;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::window::{china_date, in_china};

pub use access::{AccessCheck, AccessEntry};
pub use chain::{ChainCheck, append, append_with, last_seq, list_day};

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

/// Today's date in China, for callers listing "today".
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    china_date(now)
}

/// Both logs of one day checked: the answer of `GET /api/v1/audit/check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCheck {
    pub day: NaiveDate,
    /// True when neither log shows a problem.
    pub intact: bool,
    pub changes: ChainCheck,
    pub access: AccessCheck,
}

/// Checks a day's change chain and access log (see [`chain::check_day`]
/// and [`access::check_day`]). `verify_limit` is the per-client limit in
/// force, used for visitors indexed before their limit was recorded.
pub fn check_day(
    kv: &(impl KeyValue + ?Sized),
    day: NaiveDate,
    verify_limit: u32,
) -> Result<DayCheck, Error> {
    let changes = chain::check_day(kv, day)?;
    let access = access::check_day(kv, day, verify_limit)?;
    Ok(DayCheck {
        day,
        intact: changes.problem.is_none() && access.problem.is_none(),
        changes,
        access,
    })
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
