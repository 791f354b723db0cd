//! Records: created or corrected by upsert, their status changed by
//! compare-and-swap, and listed through the entity's index.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{MAX_CAS_ATTEMPTS, Store, contention, from_json, keys, to_json};
use crate::codes::ReportNo;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::{Cursor, Listing, Order, Page, PageRequest};
use crate::record::{Record, RecordId, RecordStatus, StoredRecord};
use crate::uscc::CreditCode;
use crate::vocabulary::RevocationCategory;
use crate::window::{china, in_china};

/// What an upsert did (`created`, `updated`, `unchanged` in docs/api.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    pub change: Change,
    pub id: RecordId,
    /// Reports revoked because an update corrected a record they showed.
    pub revoked: Vec<ReportNo>,
}

/// The distinct entity names an entity's records carry, each with one
/// record that carries it: what intake's "name on file differs" warning
/// reads instead of every record. At most [`NamesOnFile::MAX`] names are
/// kept; a further name adds nothing the warning needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamesOnFile(Vec<NameOnFile>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameOnFile {
    pub name: String,
    pub id: RecordId,
}

impl NamesOnFile {
    pub const MAX: usize = 16;

    /// A name on file other than `name`, carried by a record other than `id`.
    pub fn other_than(&self, name: &str, id: &RecordId) -> Option<&str> {
        self.0
            .iter()
            .find(|on_file| on_file.name != name && on_file.id != *id)
            .map(|on_file| on_file.name.as_str())
    }

    fn with(&self, name: &str, id: &RecordId) -> Option<NamesOnFile> {
        if self.0.len() >= Self::MAX || self.0.iter().any(|on_file| on_file.name == name) {
            return None;
        }
        let mut names = self.clone();
        names.0.push(NameOnFile {
            name: name.to_owned(),
            id: id.clone(),
        });
        Some(names)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChanged {
    pub record: StoredRecord,
    pub revoked: Vec<ReportNo>,
}

impl<K: KeyValue + ?Sized> Store<'_, K> {
    /// Puts `id` in the entity's index once, whoever gets there first.
    fn index_record(&self, uscc: &CreditCode, id: &RecordId) -> Result<(), Error> {
        if self
            .kv
            .compare_and_swap(&keys::entity_has_record(uscc, id), None, b"1")?
        {
            self.append(&keys::entity_records(uscc), id.as_str())?;
        }
        Ok(())
    }

    /// Creates or updates a record by its identity (domain, kind,
    /// document_no). Identical content is `Unchanged`; changed content is
    /// a correction by the department: `Updated`, and every unexpired
    /// report that showed the record is revoked. Status (e.g. withdrawn)
    /// is kept across updates.
    pub fn upsert_record(
        &self,
        record: Record,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Upserted, Error> {
        self.correct_record(record, actor, now, RevocationCategory::RecordCorrected)
    }

    /// [`Store::upsert_record`], revoking reports under `category` (a
    /// correction after an objection is the objection's).
    pub fn correct_record(
        &self,
        record: Record,
        actor: &str,
        now: DateTime<Utc>,
        category: RevocationCategory,
    ) -> Result<Upserted, Error> {
        let id = record.id();
        let key = keys::record(&id);
        // Full precision: two writers' values must differ, as the key-value
        // adapter takes "the key holds exactly my bytes" for a swap that
        // happened (Spin's Redis store misreports its swaps).
        let at = now.with_timezone(&china());
        for _ in 0..MAX_CAS_ATTEMPTS {
            match self.kv.get(&key)? {
                None => {
                    // Index first: an index entry without a record is
                    // skipped by readers; a record without one would be lost.
                    self.index_record(record.uscc(), &id)?;
                    let stored = StoredRecord {
                        id: id.clone(),
                        status: RecordStatus::Active,
                        status_reason: None,
                        status_changed_at: None,
                        version: 1,
                        created_at: at,
                        created_by: actor.to_owned(),
                        updated_at: at,
                        updated_by: actor.to_owned(),
                        record: record.clone(),
                    };
                    if self.kv.compare_and_swap(&key, None, &to_json(&stored)?)? {
                        return Ok(Upserted {
                            change: Change::Created,
                            id,
                            revoked: vec![],
                        });
                    }
                }
                Some(bytes) => {
                    let current: StoredRecord = from_json(&key, &bytes)?;
                    if current.record == record {
                        return Ok(Upserted {
                            change: Change::Unchanged,
                            id,
                            revoked: vec![],
                        });
                    }
                    if current.record.uscc() != record.uscc() {
                        self.index_record(record.uscc(), &id)?;
                    }
                    let updated = StoredRecord {
                        version: current.version + 1,
                        updated_at: at,
                        updated_by: actor.to_owned(),
                        record: record.clone(),
                        ..current
                    };
                    if self
                        .kv
                        .compare_and_swap(&key, Some(&bytes), &to_json(&updated)?)?
                    {
                        let revoked = self.revoke_reports_showing(
                            &id,
                            category,
                            "报告所列记录已被数据来源单位更正",
                            now,
                        )?;
                        return Ok(Upserted {
                            change: Change::Updated,
                            id,
                            revoked,
                        });
                    }
                }
            }
        }
        Err(contention(&key))
    }

    /// The entity names the entity's records carry: one read. An entity
    /// stored before the names were kept has them gathered from its
    /// records once.
    pub fn names_on_file(&self, uscc: &CreditCode) -> Result<NamesOnFile, Error> {
        if let Some(names) = self.get_json(&keys::entity_names(uscc))? {
            return Ok(names);
        }
        let mut names = NamesOnFile::default();
        let mut cursor = None;
        loop {
            let page = self.records_page(uscc, cursor.as_ref(), crate::paging::MAX_LIMIT)?;
            for stored in &page.items {
                if let Some(more) = names.with(&stored.record.common().entity_name, &stored.id) {
                    names = more;
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        if !names.0.is_empty() {
            self.kv
                .compare_and_swap(&keys::entity_names(uscc), None, &to_json(&names)?)?;
        }
        Ok(names)
    }

    /// Notes that record `id` carries `name`, unless the name is on file.
    pub fn note_name(&self, uscc: &CreditCode, name: &str, id: &RecordId) -> Result<(), Error> {
        self.update_json(&keys::entity_names(uscc), |names: NamesOnFile| {
            names.with(name, id)
        })
    }

    pub fn get_record(&self, id: &RecordId) -> Result<Option<StoredRecord>, Error> {
        self.get_json(&keys::record(id))
    }

    /// One page of an entity's records, whatever their status, in the
    /// order they were first stored: reads one page of the entity's index
    /// and those records only.
    pub fn records_page(
        &self,
        uscc: &CreditCode,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<StoredRecord>, Error> {
        let request = PageRequest {
            cursor: cursor.cloned(),
            limit,
        };
        let listed = self.list_page(
            &keys::entity_records(uscc),
            Order::Appended,
            request.position(Listing::Records)?,
            limit,
        )?;
        let mut seen = std::collections::HashSet::new();
        let record_keys: Vec<String> = listed
            .values
            .into_iter()
            .filter(|(_, id)| seen.insert(id.clone()))
            .filter_map(|(_, id)| id.parse().ok())
            .map(|id| keys::record(&id))
            .collect();
        let records: Vec<StoredRecord> = self.get_many_json(&record_keys)?;
        Ok(Page {
            items: records
                .into_iter()
                .filter(|r| r.record.uscc() == uscc)
                .collect(),
            next: listed
                .next
                .map(|position| Cursor::at(Listing::Records, vec![position])),
        })
    }

    /// Sets a record's status. Repaired and withdrawn revoke every
    /// unexpired report that showed the record, with `reason`, as credit
    /// repair or as the department's withdrawal. Setting the status it
    /// already has changes nothing, except withdrawing (see
    /// [`Store::withdraw_record`]).
    pub fn set_record_status(
        &self,
        id: &RecordId,
        status: RecordStatus,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StatusChanged, Error> {
        let category = match status {
            RecordStatus::Repaired => RevocationCategory::CreditRepair,
            RecordStatus::Withdrawn => RevocationCategory::RecordWithdrawn,
            RecordStatus::Active | RecordStatus::UnderObjection => RevocationCategory::Other,
        };
        self.change_status(id, status, category, reason, actor, now)
    }

    /// [`Store::set_record_status`], revoking under `category`.
    fn change_status(
        &self,
        id: &RecordId,
        status: RecordStatus,
        category: RevocationCategory,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StatusChanged, Error> {
        let key = keys::record(id);
        for _ in 0..MAX_CAS_ATTEMPTS {
            let bytes = self
                .kv
                .get(&key)?
                .ok_or_else(|| Error::NotFound(format!("没有编号为 {id} 的记录")))?;
            let current: StoredRecord = from_json(&key, &bytes)?;
            if status == RecordStatus::Withdrawn {
                refuse_second_withdrawal(id, current.status)?;
            }
            if current.status == status {
                return Ok(StatusChanged {
                    record: current,
                    revoked: vec![],
                });
            }
            let at = in_china(now);
            let current_status = current.status;
            let updated = StoredRecord {
                status,
                status_reason: Some(reason.to_owned()).filter(|r| !r.is_empty()),
                status_changed_at: Some(at),
                version: current.version + 1,
                updated_at: at,
                updated_by: actor.to_owned(),
                ..current
            };
            if self
                .kv
                .compare_and_swap(&key, Some(&bytes), &to_json(&updated)?)?
            {
                self.tally_status_change(
                    updated.record.domain(),
                    updated.record.kind(),
                    current_status,
                    status,
                )?;
                let revoked = match status {
                    RecordStatus::Repaired => self.revoke_reports_showing(
                        id,
                        category,
                        &format!("报告所列记录已完成信用修复：{reason}"),
                        now,
                    )?,
                    RecordStatus::Withdrawn => self.revoke_reports_showing(
                        id,
                        category,
                        &format!("报告所列记录已被撤销：{reason}"),
                        now,
                    )?,
                    RecordStatus::Active | RecordStatus::UnderObjection => vec![],
                };
                return Ok(StatusChanged {
                    record: updated,
                    revoked,
                });
            }
        }
        Err(contention(&key))
    }

    /// Withdraws a record (e.g. annulled on review, or after an objection),
    /// revoking reports that showed it under `category`. A record already
    /// withdrawn or repaired is a conflict: its status, reason and the
    /// revocations made then stand, and no second reason is recorded.
    pub fn withdraw_record(
        &self,
        id: &RecordId,
        category: RevocationCategory,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StatusChanged, Error> {
        if reason.trim().is_empty() {
            return Err(Error::MissingField {
                field: "reason".into(),
            });
        }
        self.change_status(
            id,
            RecordStatus::Withdrawn,
            category,
            reason.trim(),
            actor,
            now,
        )
    }
}

/// Checked on the record as the withdrawal's write finds it, so of two
/// withdrawals at once the second is refused.
fn refuse_second_withdrawal(id: &RecordId, status: RecordStatus) -> Result<(), Error> {
    match status {
        RecordStatus::Withdrawn => Err(Error::Conflict(format!("记录 {id} 已撤销，不能再次撤销"))),
        RecordStatus::Repaired => Err(Error::Conflict(format!(
            "记录 {id} 已完成信用修复，不能撤销"
        ))),
        RecordStatus::Active | RecordStatus::UnderObjection => Ok(()),
    }
}
