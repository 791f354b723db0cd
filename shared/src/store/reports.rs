//! Reports: issued from the entity's records as immutable snapshots, read
//! back, and revoked (the first revocation stands).

use chrono::{DateTime, Duration, FixedOffset, Utc};

use super::{AnswerIndex, Store, from_json, keys, to_json};
use crate::catalog::ReportDomain;
use crate::catalog::catalog;
use crate::codes::{ReportNo, VerificationCode};
use crate::config::RuleConfig;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::{self, Cursor, Listing, Order, Page, PageRequest};
use crate::record::{RecordId, StoredRecord};
use crate::report::{AppliedRules, ApplyRequest, Report, Revocation};
use crate::rules::{FoundRecord, clean, counts, findings};
use crate::uscc::CreditCode;
use crate::vocabulary::RevocationCategory;
use crate::window::{Window, china, china_date, in_china};

impl<K: KeyValue + ?Sized> Store<'_, K> {
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
        // Staff on an entity's behalf count against their own quota, so a
        // busy counter neither uses up nor is stopped by the entity's limit.
        let (counter, limit) = match &request.on_behalf {
            Some(staff) => (
                keys::staff_applications_on(&staff.staff_sub, today),
                config.staff_apply_limit_per_day,
            ),
            None => (
                keys::applications_on(&request.uscc, today),
                config.apply_limit_per_day,
            ),
        };
        let applications = self.kv.increment(&counter, 1)?;
        if applications > i64::from(limit) {
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
                limit,
                retry_after_secs,
                by_staff: request.on_behalf.is_some(),
            });
        }
        let domains = catalog().select(&request.domains)?;
        let purpose = catalog().require_purpose(&request.purpose)?;
        let window = Window::ending_on(request.months, today);
        let shown = self.records_shown(&request.uscc, &domains, &window, config)?;
        let found = findings(&shown.records, &domains, &window, config);
        let entity_name = request
            .entity_name
            .clone()
            .or(shown.latest_name)
            .unwrap_or_else(|| request.uscc.to_string());
        let issued_at = in_china(now);
        // Numbered once it is known to fit: a placeholder of the same
        // length until then.
        let mut report = Report {
            report_no: ReportNo::new(today, 0),
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
            authorisation_ref: request
                .on_behalf
                .as_ref()
                .map(|staff| staff.authorisation_ref.clone()),
            rules: AppliedRules {
                include_simplified_procedure: config.include_simplified_procedure,
                show_repaired_records: config.show_repaired_records,
                end_publicity_at_expiry: config.end_publicity_at_expiry,
                publicity_max_months: config
                    .end_publicity_at_expiry
                    .then_some(config.publicity_max_months),
                include_coercive_measures: config.include_coercive_measures,
                include_criminal_judgments: config.include_criminal_judgments,
            },
            snapshot_digest: String::new(),
        };
        refuse_beyond_bound(&report)?;
        let sequence = self.kv.increment(&keys::report_sequence(today), 1)?.max(1) as u64;
        report.report_no = ReportNo::new(today, sequence);
        report.snapshot_digest = report.compute_digest()?;
        let no = report.report_no.as_str().to_owned();
        if !self
            .kv
            .compare_and_swap(&keys::report(&report.report_no), None, &to_json(&report)?)?
        {
            return Err(Error::Internal(format!("report number {no} already taken")));
        }
        self.append(&keys::entity_reports(&report.uscc), &no)?;
        let shown: Vec<&FoundRecord> = report.findings.iter().flat_map(|f| &f.records).collect();
        for r in &shown {
            self.append(&keys::reports_showing(&r.id), &no)?;
        }
        // A record changed between reading and indexing would have missed
        // this report in its revocation: compare versions once indexed.
        let record_keys: Vec<String> = shown.iter().map(|r| keys::record(&r.id)).collect();
        let now_stored: Vec<StoredRecord> = self.get_many_json(&record_keys)?;
        let stale = shown.iter().any(|r| {
            now_stored
                .iter()
                .find(|s| s.id == r.id)
                .is_none_or(|s| s.version != r.version)
        });
        if stale {
            self.revoke(
                &report.report_no,
                RevocationCategory::RecordCorrected,
                "出具过程中报告所列记录发生变更，请重新申请",
                now,
            )?;
        }
        // The code's index entry carries the answer. A revocation above (or
        // a racing one) has already written it from the status: it names
        // this report, and stands.
        let code_key = keys::report_by_code(&report.verification_code);
        let index = AnswerIndex::of(&report, None, None);
        if !self
            .kv
            .compare_and_swap(&code_key, None, &to_json(&index)?)?
            && self
                .find_by_code(&report.verification_code)?
                .map(|r| r.report_no)
                != Some(report.report_no.clone())
        {
            return Err(Error::Internal("verification code collision".into()));
        }
        Ok(report)
    }

    /// The entity's records that count in the chosen domains over
    /// `window`, read a page at a time, and the entity name its latest
    /// changed record carries. Stops reading past [`MAX_REPORT_RECORDS`]
    /// counting records: the report is refused then, and memory stays
    /// bounded however many records the entity has.
    fn records_shown(
        &self,
        uscc: &CreditCode,
        domains: &[&ReportDomain],
        window: &Window,
        config: &RuleConfig,
    ) -> Result<Shown, Error> {
        let mut shown = Shown::default();
        let mut latest: Option<DateTime<FixedOffset>> = None;
        let mut cursor = None;
        loop {
            let page = self.records_page(uscc, cursor.as_ref(), paging::MAX_LIMIT)?;
            for stored in page.items {
                if latest.is_none_or(|at| stored.updated_at >= at) {
                    latest = Some(stored.updated_at);
                    shown.latest_name = Some(stored.record.common().entity_name.clone());
                }
                let in_domains = domains.iter().any(|d| {
                    d.data_domains
                        .iter()
                        .any(|code| code == stored.record.domain())
                });
                if in_domains && counts(&stored, window, config) {
                    shown.records.push(stored);
                }
            }
            if shown.records.len() > MAX_REPORT_RECORDS {
                return Err(Error::ReportTooLarge {
                    records: shown.records.len(),
                    limit: MAX_REPORT_RECORDS,
                });
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(shown),
            }
        }
    }

    pub fn get_report(&self, report_no: &ReportNo) -> Result<Option<Report>, Error> {
        self.get_json(&keys::report(report_no))
    }

    /// A page of the entity's report numbers, newest first: reads one
    /// page of the entity's report index.
    pub fn reports_page(
        &self,
        uscc: &CreditCode,
        page: &PageRequest,
    ) -> Result<Page<ReportNo>, Error> {
        let listed = self.list_page(
            &keys::entity_reports(uscc),
            Order::NewestFirst,
            page.position(Listing::Reports)?,
            page.limit,
        )?;
        Ok(Page {
            items: listed
                .values
                .into_iter()
                .filter_map(|(_, no)| no.parse().ok())
                .collect(),
            next: listed
                .next
                .map(|position| Cursor::at(Listing::Reports, vec![position])),
        })
    }

    pub fn report_status(&self, report_no: &ReportNo) -> Result<Option<Revocation>, Error> {
        self.get_json(&keys::report_status(report_no))
    }

    /// The reports with their revocation status, in the order of
    /// `numbers`, in one batched read; numbers without a report are left
    /// out.
    pub fn reports_with_status(
        &self,
        numbers: &[ReportNo],
    ) -> Result<Vec<(Report, Option<Revocation>)>, Error> {
        let keys: Vec<String> = numbers
            .iter()
            .flat_map(|no| [keys::report(no), keys::report_status(no)])
            .collect();
        let values = self.get_many_raw(&keys)?;
        let mut out = Vec::with_capacity(numbers.len());
        for (pair, value) in keys.chunks_exact(2).zip(values.chunks_exact(2)) {
            if let ([report_key, status_key], [Some(report), status]) = (pair, value) {
                let status = status
                    .as_ref()
                    .map(|b| from_json(status_key, b))
                    .transpose()?;
                out.push((from_json(report_key, report)?, status));
            }
        }
        Ok(out)
    }

    /// Revokes a report; the first revocation stands. Its answer indexes
    /// (by code, by file) are rewritten to answer REVOKED. Returns whether
    /// this call revoked it.
    pub fn revoke(
        &self,
        report_no: &ReportNo,
        category: RevocationCategory,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let revocation = Revocation {
            revoked_at: in_china(now),
            category,
            reason: reason.to_owned(),
        };
        let revoked = self.kv.compare_and_swap(
            &keys::report_status(report_no),
            None,
            &to_json(&revocation)?,
        )?;
        if revoked {
            self.refresh_answer_indexes(report_no)?;
            self.announce_revocation(report_no, &revocation)?;
        }
        Ok(revoked)
    }

    /// Revokes every unexpired report that showed the record.
    pub fn revoke_reports_showing(
        &self,
        id: &RecordId,
        category: RevocationCategory,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<ReportNo>, Error> {
        let mut revoked = Vec::new();
        for no in self.list(&keys::reports_showing(id))? {
            let Ok(no) = no.parse::<ReportNo>() else {
                continue;
            };
            let Some(report) = self.get_report(&no)? else {
                continue;
            };
            if !report.is_expired(now) && self.revoke(&no, category, reason, now)? {
                revoked.push(no);
            }
        }
        Ok(revoked)
    }
}

/// What a report shows of an entity's records.
#[derive(Default)]
struct Shown {
    records: Vec<StoredRecord>,
    latest_name: Option<String>,
}

/// The most records one report shows. Its snapshot is one store value
/// (under [`MAX_SNAPSHOT_BYTES`]) and its PDF is rendered in one instance:
/// at this bound a typical record makes a snapshot of about 1 MB and a PDF
/// of about 1.2 MB rendered with a peak of about 22 MB, within the
/// instance's 32 MB (docs/decisions.md).
pub const MAX_REPORT_RECORDS: usize = 1000;
/// The most a report snapshot may take: the stores' value limit.
pub const MAX_SNAPSHOT_BYTES: usize = 1024 * 1024;
/// The snapshot digest, hex SHA-256, set once the report is numbered.
const DIGEST_BYTES: usize = 64;

/// Refuses, before a number is issued, a report whose snapshot (numbered
/// with a placeholder of the same length) would not fit one store value.
/// [`Store::records_shown`] has refused more than [`MAX_REPORT_RECORDS`].
fn refuse_beyond_bound(report: &Report) -> Result<(), Error> {
    if to_json(report)?.len() + DIGEST_BYTES > MAX_SNAPSHOT_BYTES {
        return Err(Error::ReportTooLarge {
            records: report.record_count(),
            limit: MAX_REPORT_RECORDS,
        });
    }
    Ok(())
}
