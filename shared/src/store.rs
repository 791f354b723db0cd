//! Persistence over the [`KeyValue`] port.
//!
//! Key layout (every key ≤ 250 bytes; values are single records, reports,
//! short ids or PDF chunks, below 1 MB):
//!
//! | key | value |
//! |---|---|
//! | `rec/{id}` | [`StoredRecord`] JSON; changed only by compare-and-swap |
//! | `ent/{uscc}/rec/n` | counter: slots allocated in the entity's record index |
//! | `ent/{uscc}/rec/{seq}` | a record id (written once) |
//! | `ent/{uscc}/has/{id}` | marker claimed by compare-and-swap, so each record takes one slot |
//! | `ent/{uscc}/rpt/n`, `ent/{uscc}/rpt/{seq}` | the entity's report numbers |
//! | `ent/{uscc}/apply/{yyyymmdd}` | counter: applications that day (China date) |
//! | `rec/{id}/rpt/n`, `rec/{id}/rpt/{seq}` | reports that showed the record (for revocation) |
//! | `rpt/{report_no}` | [`Report`] JSON, immutable (set-if-absent) |
//! | `rpt/{report_no}/status` | [`Revocation`] JSON (set-if-absent: the first revocation stands) |
//! | `rpt/{report_no}/pdf` | [`PdfFingerprint`] JSON (set-if-absent, after its chunks) |
//! | `rpt/{report_no}/pdf/{sha256}/{i}` | the issued PDF's bytes, [`PDF_CHUNK_BYTES`] per chunk |
//! | `code/{sha256(code)}` | report number |
//! | `pdf/{sha256}` | report number |
//! | `seq/report/{yyyymmdd}` | counter: the day's report sequence |
//!
//! Building a report reads the entity's index and its records only, never a
//! scan. No shared value is read-modified-written without compare-and-swap;
//! indexes grow by `increment`-allocated slots. Counters are read only
//! through `increment(key, 0)`, as backends encode them differently.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::catalog::catalog;
use crate::codes::{ReportNo, VerificationCode};
use crate::config::RuleConfig;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::record::{Record, RecordId, RecordStatus, StoredRecord};
use crate::report::{
    AppliedRules, ApplyRequest, FileClaim, FileFacts, FileVerification, Outcome, PdfFingerprint,
    Report, Revocation, Verification,
};
use crate::rules::{clean, findings};
use crate::uscc::CreditCode;
use crate::window::{Window, china, china_date, in_china};

/// How often a compare-and-swap is retried under contention before the
/// store is reported unavailable.
const MAX_CAS_ATTEMPTS: usize = 256;
/// Keys per `get_many` call.
const BATCH: usize = 200;
/// Bytes per stored PDF chunk: Spin's key-value values are limited to about
/// 1 MB on Fermyon Cloud.
pub const PDF_CHUNK_BYTES: usize = 512 * 1024;

/// A report's PDF as issued, with the fingerprint pinned at first
/// generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedPdf {
    pub bytes: Vec<u8>,
    pub fingerprint: PdfFingerprint,
    /// Set when the stored bytes could not be served as pinned (missing,
    /// corrupt, or re-rendered differently): for the operator's log.
    pub problem: Option<String>,
}

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChanged {
    pub record: StoredRecord,
    pub revoked: Vec<ReportNo>,
}

/// The service's storage, over any key-value backend.
pub struct Store<'a, K: KeyValue + ?Sized> {
    kv: &'a K,
}

fn record_key(id: &RecordId) -> String {
    format!("rec/{id}")
}

fn pdf_key(report_no: &ReportNo) -> String {
    format!("rpt/{report_no}/pdf")
}

fn pdf_chunk_key(report_no: &ReportNo, sha256: &str, index: u64) -> String {
    format!("rpt/{report_no}/pdf/{sha256}/{index}")
}

fn day(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Internal(format!("serialize: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Internal(format!("corrupt value at {key}: {e}")))
}

pub(crate) fn contention(key: &str) -> Error {
    Error::StoreUnavailable(format!("compare-and-swap contention on {key}"))
}

impl<'a, K: KeyValue + ?Sized> Store<'a, K> {
    pub fn new(kv: &'a K) -> Self {
        Store { kv }
    }

    fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.kv.get(key)?.map(|b| from_json(key, &b)).transpose()
    }

    fn counter(&self, key: &str) -> Result<u64, Error> {
        Ok(self.kv.increment(key, 0)?.max(0) as u64)
    }

    /// Appends `value` to the list under `prefix`: a slot from the counter
    /// `prefix/n`, then a write-once value at `prefix/{slot}`.
    pub(crate) fn append(&self, prefix: &str, value: &str) -> Result<(), Error> {
        let slot = self.kv.increment(&format!("{prefix}/n"), 1)?;
        self.kv.set(&format!("{prefix}/{slot}"), value.as_bytes())?;
        Ok(())
    }

    /// The values of the list under `prefix`, in order, skipping slots a
    /// writer has allocated but not filled yet.
    pub(crate) fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let n = self.counter(&format!("{prefix}/n"))?;
        let mut out = Vec::new();
        let mut slot = 1u64;
        while slot <= n {
            let end = (slot + BATCH as u64 - 1).min(n);
            let keys: Vec<String> = (slot..=end).map(|i| format!("{prefix}/{i}")).collect();
            for value in self.kv.get_many(&keys)?.into_iter().flatten() {
                out.push(String::from_utf8_lossy(&value).into_owned());
            }
            slot = end + 1;
        }
        Ok(out)
    }

    /// Values in the order of `keys`, however many there are. Each key is
    /// asked for once: a backend may answer `get_many` as a map, losing
    /// repeated keys.
    fn get_many_raw(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, Error> {
        let mut unique: Vec<&String> = keys.iter().collect();
        unique.sort_unstable();
        unique.dedup();
        let mut found = std::collections::HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH) {
            let chunk: Vec<String> = chunk.iter().map(|k| (*k).clone()).collect();
            let values = self.kv.get_many(&chunk)?;
            if values.len() != chunk.len() {
                return Err(Error::StoreUnavailable(format!(
                    "get_many answered {} values for {} keys",
                    values.len(),
                    chunk.len()
                )));
            }
            found.extend(chunk.into_iter().zip(values));
        }
        Ok(keys
            .iter()
            .map(|k| found.get(k).cloned().flatten())
            .collect())
    }

    pub(crate) fn get_many_json<T: DeserializeOwned>(
        &self,
        keys: &[String],
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH) {
            for (key, value) in chunk.iter().zip(self.kv.get_many(chunk)?) {
                if let Some(bytes) = value {
                    out.push(from_json(key, &bytes)?);
                }
            }
        }
        Ok(out)
    }

    /// Puts `id` in the entity's index once, whoever gets there first.
    fn index_record(&self, uscc: &CreditCode, id: &RecordId) -> Result<(), Error> {
        if self
            .kv
            .compare_and_swap(&format!("ent/{uscc}/has/{id}"), None, b"1")?
        {
            self.append(&format!("ent/{uscc}/rec"), id.as_str())?;
        }
        Ok(())
    }

    // ----- records -----

    /// Creates or updates a record by its identity (domain, kind,
    /// document_no). Identical content is `Unchanged`; changed content is
    /// a correction: `Updated`, and every unexpired report that showed the
    /// record is revoked. Status (e.g. withdrawn) is kept across updates.
    pub fn upsert_record(
        &self,
        record: Record,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Upserted, Error> {
        let id = record.id();
        let key = record_key(&id);
        let at = in_china(now);
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

    pub fn get_record(&self, id: &RecordId) -> Result<Option<StoredRecord>, Error> {
        self.get_json(&record_key(id))
    }

    /// Every record of an entity, whatever its status, in the order they
    /// were first stored. Reads only that entity's index and records.
    pub fn records_of(&self, uscc: &CreditCode) -> Result<Vec<StoredRecord>, Error> {
        let mut ids = self.list(&format!("ent/{uscc}/rec"))?;
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(id.clone()));
        let keys: Vec<String> = ids.iter().map(|id| format!("rec/{id}")).collect();
        let records: Vec<StoredRecord> = self.get_many_json(&keys)?;
        Ok(records
            .into_iter()
            .filter(|r| r.record.uscc() == uscc)
            .collect())
    }

    /// Sets a record's status. Repaired and withdrawn revoke every
    /// unexpired report that showed the record, with `reason`. Setting the
    /// status it already has changes nothing.
    pub fn set_record_status(
        &self,
        id: &RecordId,
        status: RecordStatus,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StatusChanged, Error> {
        let key = record_key(id);
        for _ in 0..MAX_CAS_ATTEMPTS {
            let bytes = self
                .kv
                .get(&key)?
                .ok_or_else(|| Error::NotFound(format!("没有编号为 {id} 的记录")))?;
            let current: StoredRecord = from_json(&key, &bytes)?;
            if current.status == status {
                return Ok(StatusChanged {
                    record: current,
                    revoked: vec![],
                });
            }
            let at = in_china(now);
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
                let revoked = match status {
                    RecordStatus::Repaired => self.revoke_reports_showing(
                        id,
                        &format!("报告所列记录已完成信用修复：{reason}"),
                        now,
                    )?,
                    RecordStatus::Withdrawn => self.revoke_reports_showing(
                        id,
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

    /// Withdraws a record (e.g. annulled on review), revoking reports that showed it.
    pub fn withdraw_record(
        &self,
        id: &RecordId,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StatusChanged, Error> {
        if reason.trim().is_empty() {
            return Err(Error::MissingField {
                field: "reason".into(),
            });
        }
        self.set_record_status(id, RecordStatus::Withdrawn, reason.trim(), actor, now)
    }

    // ----- reports -----

    /// Issues a report: checks the entity's daily limit, builds the
    /// findings from the entity's records only, and stores the immutable
    /// snapshot with its indexes. `issuer` is the applicant's audit name.
    pub fn issue_report(
        &self,
        request: &ApplyRequest,
        issuer: &str,
        now: DateTime<Utc>,
        config: &RuleConfig,
    ) -> Result<Report, Error> {
        let today = china_date(now);
        let applications = self
            .kv
            .increment(&format!("ent/{}/apply/{}", request.uscc, day(today)), 1)?;
        if applications > i64::from(config.apply_limit_per_day) {
            let next_midnight = today
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_local_timezone(china()));
            let retry_after_secs = match next_midnight {
                Some(chrono::LocalResult::Single(t)) => {
                    (t.with_timezone(&Utc) - now).num_seconds().max(1) as u64
                }
                _ => 86_400,
            };
            return Err(Error::TooManyApplications {
                limit: config.apply_limit_per_day,
                retry_after_secs,
            });
        }
        let domains = catalog().select(&request.domains)?;
        let purpose = catalog().require_purpose(&request.purpose)?;
        let records = self.records_of(&request.uscc)?;
        let window = Window::ending_on(request.months, today);
        let found = findings(&records, &domains, &window, config);
        let entity_name = request
            .entity_name
            .clone()
            .or_else(|| {
                records
                    .iter()
                    .max_by_key(|r| r.updated_at)
                    .map(|r| r.record.common().entity_name.clone())
            })
            .unwrap_or_else(|| request.uscc.to_string());
        let sequence = self
            .kv
            .increment(&format!("seq/report/{}", day(today)), 1)?
            .max(1) as u64;
        let issued_at = in_china(now);
        let mut report = Report {
            report_no: ReportNo::new(today, sequence),
            verification_code: VerificationCode::generate()?,
            entity_name,
            uscc: request.uscc.clone(),
            months: request.months,
            period_start: window.start,
            period_end: window.end,
            domains: domains.iter().map(|d| d.code.clone()).collect(),
            purpose: purpose.code.clone(),
            issued_at,
            valid_until: issued_at + Duration::days(i64::from(config.report_validity_days)),
            clean: clean(&found),
            findings: found,
            issued_by: issuer.to_owned(),
            rules: AppliedRules {
                include_simplified_procedure: config.include_simplified_procedure,
                show_repaired_records: config.show_repaired_records,
                end_publicity_at_expiry: config.end_publicity_at_expiry,
            },
            snapshot_digest: String::new(),
        };
        report.snapshot_digest = report.compute_digest();
        let no = report.report_no.as_str().to_owned();
        if !self
            .kv
            .compare_and_swap(&format!("rpt/{no}"), None, &to_json(&report)?)?
        {
            return Err(Error::Internal(format!("report number {no} already taken")));
        }
        self.append(&format!("ent/{}/rpt", report.uscc), &no)?;
        let shown: Vec<&crate::rules::FoundRecord> =
            report.findings.iter().flat_map(|f| &f.records).collect();
        for r in &shown {
            self.append(&format!("rec/{}/rpt", r.id), &no)?;
        }
        // A record changed between reading and indexing would have missed
        // this report in its revocation: compare versions once indexed.
        let keys: Vec<String> = shown.iter().map(|r| record_key(&r.id)).collect();
        let now_stored: Vec<StoredRecord> = self.get_many_json(&keys)?;
        let stale = shown.iter().any(|r| {
            now_stored
                .iter()
                .find(|s| s.id == r.id)
                .is_none_or(|s| s.version != r.version)
        });
        if stale {
            self.revoke(
                &report.report_no,
                "出具过程中报告所列记录发生变更，请重新申请",
                now,
            )?;
        }
        let code_key = format!("code/{}", report.verification_code.lookup_digest());
        if !self.kv.compare_and_swap(&code_key, None, no.as_bytes())? {
            return Err(Error::Internal("verification code collision".into()));
        }
        Ok(report)
    }

    pub fn get_report(&self, report_no: &ReportNo) -> Result<Option<Report>, Error> {
        self.get_json(&format!("rpt/{report_no}"))
    }

    /// The entity's report numbers, oldest first.
    pub fn reports_of(&self, uscc: &CreditCode) -> Result<Vec<ReportNo>, Error> {
        Ok(self
            .list(&format!("ent/{uscc}/rpt"))?
            .into_iter()
            .filter_map(|s| s.parse().ok())
            .collect())
    }

    /// The report number a code's digest points to (not yet compared with
    /// the report's own code).
    fn report_no_for_code(&self, code: &VerificationCode) -> Result<Option<ReportNo>, Error> {
        Ok(self
            .kv
            .get(&format!("code/{}", code.lookup_digest()))?
            .and_then(|no| String::from_utf8_lossy(&no).parse().ok()))
    }

    /// The report a code belongs to. The lookup is by the code's digest and
    /// the stored code is compared in constant time.
    pub fn find_by_code(&self, code: &VerificationCode) -> Result<Option<Report>, Error> {
        let Some(no) = self.report_no_for_code(code)? else {
            return Ok(None);
        };
        Ok(self
            .get_report(&no)?
            .filter(|r| r.verification_code.matches(code)))
    }

    pub fn report_status(&self, report_no: &ReportNo) -> Result<Option<Revocation>, Error> {
        self.get_json(&format!("rpt/{report_no}/status"))
    }

    /// Revokes a report; the first revocation stands. Returns whether this
    /// call revoked it.
    pub fn revoke(
        &self,
        report_no: &ReportNo,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let revocation = Revocation {
            revoked_at: in_china(now),
            reason: reason.to_owned(),
        };
        Ok(self.kv.compare_and_swap(
            &format!("rpt/{report_no}/status"),
            None,
            &to_json(&revocation)?,
        )?)
    }

    /// Revokes every unexpired report that showed the record.
    pub fn revoke_reports_showing(
        &self,
        id: &RecordId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<ReportNo>, Error> {
        let mut revoked = Vec::new();
        for no in self.list(&format!("rec/{id}/rpt"))? {
            let Ok(no) = no.parse::<ReportNo>() else {
                continue;
            };
            let Some(report) = self.get_report(&no)? else {
                continue;
            };
            if !report.is_expired(now) && self.revoke(&no, reason, now)? {
                revoked.push(no);
            }
        }
        Ok(revoked)
    }

    /// The report's PDF as issued. The first call renders it and pins it:
    /// the bytes are stored in chunks, then the fingerprint is set once, so
    /// a reader that sees a fingerprint always finds its bytes. Later calls
    /// serve the stored bytes after checking them against the fingerprint,
    /// and never render again: a changed renderer, font or public_base_url
    /// cannot alter an issued file. Stored bytes that are missing or fail
    /// the check are re-rendered, and the answer carries a `problem` to log.
    pub fn issued_pdf(
        &self,
        report_no: &ReportNo,
        mut render: impl FnMut() -> Result<Vec<u8>, Error>,
    ) -> Result<IssuedPdf, Error> {
        match self.pdf_of(report_no)? {
            Some(pinned) => self.serve_pinned(report_no, pinned, &mut render),
            None => self.pin_pdf(report_no, render()?),
        }
    }

    /// Pins `bytes` as the report's PDF unless one is pinned already, in
    /// which case that one is served. Racing first downloads render the
    /// same bytes, and chunk keys name the content's SHA-256, so writers of
    /// the same key always write the same value.
    pub fn pin_pdf(&self, report_no: &ReportNo, bytes: Vec<u8>) -> Result<IssuedPdf, Error> {
        let fingerprint = PdfFingerprint::of(&bytes, PDF_CHUNK_BYTES as u64);
        self.store_pdf_chunks(report_no, &fingerprint, &bytes)?;
        // The index before the fingerprint too: a pinned file is always
        // findable by its hash. A racing loser's entry is harmless, as file
        // verification also compares the pinned fingerprint.
        self.kv.compare_and_swap(
            &format!("pdf/{}", fingerprint.sha256),
            None,
            report_no.as_str().as_bytes(),
        )?;
        let key = pdf_key(report_no);
        if self
            .kv
            .compare_and_swap(&key, None, &to_json(&fingerprint)?)?
        {
            return Ok(IssuedPdf {
                bytes,
                fingerprint,
                problem: None,
            });
        }
        let pinned: PdfFingerprint = self.get_json(&key)?.ok_or_else(|| contention(&key))?;
        if pinned.same_file(&fingerprint) {
            return Ok(IssuedPdf {
                bytes,
                fingerprint: pinned,
                problem: None,
            });
        }
        // Another renderer pinned different bytes first (e.g. during a
        // rollout): theirs stand, ours are dropped.
        for i in 0..fingerprint.chunk_count() {
            self.kv
                .delete(&pdf_chunk_key(report_no, &fingerprint.sha256, i))?;
        }
        let mut ours = Some(bytes);
        self.serve_pinned(report_no, pinned, &mut || {
            ours.take()
                .ok_or_else(|| Error::Internal("rendered twice".into()))
        })
    }

    fn serve_pinned(
        &self,
        report_no: &ReportNo,
        pinned: PdfFingerprint,
        render: &mut dyn FnMut() -> Result<Vec<u8>, Error>,
    ) -> Result<IssuedPdf, Error> {
        let fault = match pinned.chunk_bytes {
            Some(_) => match self.stored_pdf(report_no, &pinned)? {
                Ok(bytes) => {
                    return Ok(IssuedPdf {
                        bytes,
                        fingerprint: pinned,
                        problem: None,
                    });
                }
                Err(fault) => Some(fault),
            },
            // Fingerprinted before bytes were kept: pinned below if the
            // renderer still yields them.
            None => None,
        };
        let bytes = render()?;
        let rendered = PdfFingerprint::of(&bytes, PDF_CHUNK_BYTES as u64);
        let problem = if rendered.same_file(&pinned) {
            let upgraded = PdfFingerprint {
                chunk_bytes: pinned.chunk_bytes.or(rendered.chunk_bytes),
                ..pinned.clone()
            };
            self.store_pdf_chunks(report_no, &upgraded, &bytes)?;
            if pinned.chunk_bytes.is_none() {
                self.kv.compare_and_swap(
                    &pdf_key(report_no),
                    Some(&to_json(&pinned)?),
                    &to_json(&upgraded)?,
                )?;
            }
            fault.map(|f| format!("{f}; re-rendered identical bytes and stored them again"))
        } else {
            Some(format!(
                "{}re-rendered bytes differ from the issued file (sha256 {}, {} bytes; now {}, {} bytes): \
                 the renderer, font or public_base_url changed, and this download will verify as TAMPERED",
                fault.map(|f| format!("{f}; ")).unwrap_or_default(),
                pinned.sha256,
                pinned.size,
                rendered.sha256,
                rendered.size
            ))
        };
        Ok(IssuedPdf {
            bytes,
            fingerprint: pinned,
            problem,
        })
    }

    fn store_pdf_chunks(
        &self,
        report_no: &ReportNo,
        fingerprint: &PdfFingerprint,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let chunk = fingerprint
            .chunk_bytes
            .unwrap_or(PDF_CHUNK_BYTES as u64)
            .max(1) as usize;
        for (i, part) in bytes.chunks(chunk).enumerate() {
            self.kv.set(
                &pdf_chunk_key(report_no, &fingerprint.sha256, i as u64),
                part,
            )?;
        }
        Ok(())
    }

    /// The stored bytes of a pinned PDF, or why they cannot be served.
    fn stored_pdf(
        &self,
        report_no: &ReportNo,
        pinned: &PdfFingerprint,
    ) -> Result<Result<Vec<u8>, String>, Error> {
        let keys: Vec<String> = (0..pinned.chunk_count())
            .map(|i| pdf_chunk_key(report_no, &pinned.sha256, i))
            .collect();
        let mut bytes = Vec::with_capacity(usize::try_from(pinned.size).unwrap_or(0));
        for batch in keys.chunks(BATCH) {
            for (key, part) in batch.iter().zip(self.kv.get_many(batch)?) {
                match part {
                    Some(part) => bytes.extend_from_slice(&part),
                    None => return Ok(Err(format!("stored PDF chunk {key} is missing"))),
                }
            }
        }
        let stored = PdfFingerprint::of(&bytes, pinned.chunk_bytes.unwrap_or_default());
        Ok(if stored.same_file(pinned) {
            Ok(bytes)
        } else {
            Err(format!(
                "stored PDF of {report_no} is corrupt: sha256 {} ({} bytes), pinned {} ({} bytes)",
                stored.sha256, stored.size, pinned.sha256, pinned.size
            ))
        })
    }

    pub fn pdf_of(&self, report_no: &ReportNo) -> Result<Option<PdfFingerprint>, Error> {
        self.get_json(&pdf_key(report_no))
    }

    pub fn find_by_sha256(&self, sha256: &str) -> Result<Option<ReportNo>, Error> {
        let Ok(sha256) = normalize_sha256(sha256) else {
            return Ok(None);
        };
        Ok(self
            .kv
            .get(&format!("pdf/{sha256}"))?
            .and_then(|b| String::from_utf8_lossy(&b).parse().ok()))
    }

    // ----- verification -----

    /// Verifies by code: VALID, EXPIRED, REVOKED or NOT_FOUND. Two store
    /// round trips: the code lookup, then the report with its status.
    pub fn verify_code(
        &self,
        code: &VerificationCode,
        now: DateTime<Utc>,
    ) -> Result<Verification, Error> {
        self.verify_codes(std::slice::from_ref(code), now)?
            .pop()
            .ok_or_else(|| Error::Internal("no verification answered".into()))
    }

    /// Verifies each code as [`Store::verify_code`] does, answered in order,
    /// with the same two round trips for the whole list: every code lookup
    /// in one `get_many`, then every report with its status in another.
    pub fn verify_codes(
        &self,
        codes: &[VerificationCode],
        now: DateTime<Utc>,
    ) -> Result<Vec<Verification>, Error> {
        let code_keys: Vec<String> = codes
            .iter()
            .map(|c| format!("code/{}", c.lookup_digest()))
            .collect();
        let numbers: Vec<Option<ReportNo>> = self
            .get_many_raw(&code_keys)?
            .into_iter()
            .map(|no| no.and_then(|no| String::from_utf8_lossy(&no).parse().ok()))
            .collect();
        let keys: Vec<String> = numbers
            .iter()
            .flatten()
            .flat_map(|no| [format!("rpt/{no}"), format!("rpt/{no}/status")])
            .collect();
        let values = self.get_many_raw(&keys)?;
        let mut pairs = keys.chunks_exact(2).zip(values.chunks_exact(2));
        let mut out = Vec::with_capacity(codes.len());
        for (code, no) in codes.iter().zip(&numbers) {
            let pair = if no.is_some() { pairs.next() } else { None };
            let mut answer = Verification::new(Outcome::NotFound, None);
            if let Some(([report_key, status_key], [Some(report), status])) = pair {
                let report: Report = from_json(report_key, report)?;
                if report.verification_code.matches(code) {
                    let status: Option<Revocation> = status
                        .as_ref()
                        .map(|b| from_json(status_key, b))
                        .transpose()?;
                    answer = Verification::of_authentic(&report, status, now);
                }
            }
            out.push(answer);
        }
        Ok(out)
    }

    /// Verifies an uploaded file by the SHA-256 of its exact bytes, then by
    /// what it claims to be: identical bytes → VALID / EXPIRED / REVOKED;
    /// different bytes naming one of our reports → TAMPERED; else
    /// UNRECOGNIZED. A claim by report number alone identifies the report
    /// but does not disclose its summary (numbers are sequential).
    pub fn verify_file(
        &self,
        sha256: &str,
        size: u64,
        claims: &[FileClaim],
        now: DateTime<Utc>,
    ) -> Result<FileVerification, Error> {
        let sha = normalize_sha256(sha256)?;
        let file = |matches_original| FileFacts {
            sha256: sha.clone(),
            size,
            matches_original,
        };
        if let Some(no) = self.find_by_sha256(&sha)?
            && let Some(report) = self.get_report(&no)?
            && self
                .pdf_of(&no)?
                .is_some_and(|p| p.sha256 == sha && p.size == size)
        {
            let status = self.report_status(&no)?;
            return Ok(FileVerification {
                verification: Verification::of_authentic(&report, status, now),
                file: file(true),
                claimed_report_no: None,
            });
        }
        for claim in claims {
            if let FileClaim::Code(code) = claim
                && let Some(report) = self.find_by_code(code)?
            {
                return Ok(FileVerification {
                    verification: Verification::new(
                        Outcome::Tampered {
                            appended_update: false,
                        },
                        Some(report.summary()),
                    ),
                    file: file(false),
                    claimed_report_no: Some(report.report_no),
                });
            }
        }
        for claim in claims {
            if let FileClaim::ReportNo(no) = claim
                && self.get_report(no)?.is_some()
            {
                return Ok(FileVerification {
                    verification: Verification::new(
                        Outcome::Tampered {
                            appended_update: false,
                        },
                        None,
                    ),
                    file: file(false),
                    claimed_report_no: Some(no.clone()),
                });
            }
        }
        Ok(FileVerification {
            verification: Verification::new(Outcome::Unrecognized, None),
            file: file(false),
            claimed_report_no: None,
        })
    }
}

/// Counts `cost` attempts by `client` in the current minute under `scope`
/// (e.g. "verify") at `rl/{scope}/{client}/{yyyymmddHHMM}`, and answers
/// `RATE_LIMITED` with the seconds left in the minute once `limit` is
/// passed. Atomic `increment` only; old minutes' counters are never read
/// again (a backend with expiry may drop them).
pub fn check_rate_limit(
    kv: &(impl KeyValue + ?Sized),
    scope: &str,
    client: &str,
    cost: u32,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let client: String = client
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect();
    let key = format!("rl/{scope}/{client}/{}", now.format("%Y%m%d%H%M"));
    let count = kv.increment(&key, i64::from(cost.max(1)))?;
    if count > i64::from(limit) {
        let retry_after_secs = 60 - u64::from(now.timestamp().rem_euclid(60) as u32);
        return Err(Error::RateLimited { retry_after_secs });
    }
    Ok(())
}

fn normalize_sha256(hex: &str) -> Result<String, Error> {
    let lower = hex.trim().to_ascii_lowercase();
    if lower.len() == 64 && lower.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(lower)
    } else {
        Err(Error::InvalidField {
            field: "sha256".into(),
            detail: "应为 64 位十六进制 SHA-256".into(),
        })
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
