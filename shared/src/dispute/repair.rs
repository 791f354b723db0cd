//! Credit repair (信用修复): applied for on a penalty once its minimum
//! publicity period has passed, then approved or rejected.

use chrono::{DateTime, FixedOffset, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Disputes;
use super::case::{Case, CaseFilter, CaseStatus, Decision, EvidenceInfo, require_status, view};
use super::case_no::{CaseKind, CaseNo};
use super::request::RepairApplication;
use crate::auth::Principal;
use crate::codes::{AuthorisationRef, ReportNo};
use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::Page;
use crate::record::{Penalty, Record, RecordId, RecordStatus, Severity};
use crate::uscc::CreditCode;
use crate::window::{china_date, in_china};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairStatus {
    /// 待审核
    Applied,
    /// 已修复
    Approved,
    /// 未通过
    Rejected,
}

impl RepairStatus {
    pub const ALL: [RepairStatus; 3] = [
        RepairStatus::Applied,
        RepairStatus::Approved,
        RepairStatus::Rejected,
    ];

    /// As serialized and as the `status` filter names it.
    pub fn code(self) -> &'static str {
        match self {
            RepairStatus::Applied => "applied",
            RepairStatus::Approved => "approved",
            RepairStatus::Rejected => "rejected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RepairStatus::Applied => "待审核",
            RepairStatus::Approved => "已修复",
            RepairStatus::Rejected => "未通过",
        }
    }

    pub fn is_open(self) -> bool {
        self == RepairStatus::Applied
    }
}

impl CaseStatus for RepairStatus {
    fn code(self) -> &'static str {
        self.code()
    }

    fn label(self) -> &'static str {
        self.label()
    }

    fn is_open(self) -> bool {
        self.is_open()
    }
}

/// A credit-repair case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    pub no: CaseNo,
    pub status: RepairStatus,
    pub record_id: RecordId,
    pub document_no: String,
    pub domain: String,
    pub uscc: CreditCode,
    pub entity_name: String,
    pub severity: Option<Severity>,
    pub decided_on: NaiveDate,
    /// First day a repair could be applied for.
    pub available_on: NaiveDate,
    pub statement: String,
    pub evidence: Option<EvidenceInfo>,
    pub applied_at: DateTime<FixedOffset>,
    pub applied_by: String,
    /// The decision is due by then (`repair_answer_working_days` after the
    /// application). Absent on cases applied for before repairs had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_by: Option<DateTime<FixedOffset>>,
    /// The entity's written authorisation counter staff applied under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorisation_ref: Option<AuthorisationRef>,
    pub decided_at: Option<DateTime<FixedOffset>>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub revoked_reports: Vec<ReportNo>,
}

impl Repair {
    /// Past `answer_by` and not decided.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == RepairStatus::Applied && self.answer_by.is_some_and(|by| now > by)
    }

    /// The case as the API answers it: the stored fields plus `status_label`
    /// and `overdue`.
    pub fn view(&self, now: DateTime<Utc>) -> Result<Value, Error> {
        view(
            self,
            [
                ("status_label", json!(self.status.label())),
                ("overdue", json!(self.overdue(now))),
            ],
        )
    }
}

impl Case for Repair {
    type Status = RepairStatus;
    const KIND: CaseKind = CaseKind::Repair;

    fn no(&self) -> &CaseNo {
        &self.no
    }

    fn status(&self) -> RepairStatus {
        self.status
    }

    fn uscc(&self) -> &CreditCode {
        &self.uscc
    }

    fn domain(&self) -> &str {
        &self.domain
    }

    fn filed_at(&self) -> DateTime<FixedOffset> {
        self.applied_at
    }

    fn decide(&mut self, status: RepairStatus, decision: Decision) {
        self.status = status;
        self.decided_at = Some(decision.at);
        self.decided_by = Some(decision.by);
        self.decision_reason = Some(decision.reason);
        self.revoked_reports = decision.revoked;
    }

    /// The decision is due by `answer_by` (none for cases filed before
    /// repairs had a deadline).
    fn deadline(&self) -> Option<DateTime<FixedOffset>> {
        self.answer_by
    }
}

impl<K: KeyValue + ?Sized> Disputes<'_, K> {
    /// The first day a repair of `penalty` may be applied for, and the
    /// minimum publicity period in months.
    pub fn repair_available_on(&self, penalty: &Penalty) -> (NaiveDate, u32) {
        let months = self.config.repair_min_months.min_months(penalty.severity);
        let day = penalty
            .decided_on
            .checked_add_months(Months::new(months))
            .unwrap_or(NaiveDate::MAX);
        (day, months)
    }

    /// Applies for repair of a penalty whose minimum publicity period has
    /// passed; earlier is `REPAIR_NOT_YET_ALLOWED` with the date.
    pub fn apply_repair(
        &self,
        who: &Principal,
        application: RepairApplication,
        now: DateTime<Utc>,
    ) -> Result<Repair, Error> {
        let record = self.record_to_file_on(
            who,
            CaseKind::Repair,
            &application.record_id,
            application.uscc.as_ref(),
            application.authorisation_ref.as_ref(),
        )?;
        let Record::Penalty(penalty) = &record.record else {
            return Err(Error::RepairNotApplicable {
                kind: record.record.kind(),
            });
        };
        let (available_on, min_months) = self.repair_available_on(penalty);
        match record.status {
            RecordStatus::Repaired => {
                return Err(Error::Conflict("该记录已完成信用修复".into()));
            }
            RecordStatus::Withdrawn => {
                return Err(Error::Conflict("该记录已撤销，不再公示，无需修复".into()));
            }
            RecordStatus::UnderObjection | RecordStatus::Active => {}
        }
        if china_date(now) < available_on {
            return Err(Error::RepairNotYetAllowed {
                min_months,
                available_on,
            });
        }
        let no = self.number_for(CaseKind::Repair, &record.id, now)?;
        let common = &penalty.common;
        let applied_at = in_china(now);
        let case = Repair {
            no: no.clone(),
            status: RepairStatus::Applied,
            record_id: record.id.clone(),
            document_no: common.document_no.clone(),
            domain: common.domain.clone(),
            uscc: common.uscc.clone(),
            entity_name: common.entity_name.clone(),
            severity: penalty.severity,
            decided_on: penalty.decided_on,
            available_on,
            statement: application.statement,
            evidence: self.store_evidence(&no, application.evidence.as_ref())?,
            applied_at,
            applied_by: who.audit_name(),
            answer_by: Some(
                self.config
                    .calendar
                    .add_working_days(applied_at, self.config.repair_answer_working_days),
            ),
            authorisation_ref: application.authorisation_ref,
            decided_at: None,
            decided_by: None,
            decision_reason: None,
            revoked_reports: vec![],
        };
        self.create(&case)?;
        Ok(case)
    }

    pub fn repair(&self, who: &Principal, no: &CaseNo) -> Result<Repair, Error> {
        self.read(who, no)
    }

    /// The repairs a principal may see, newest first.
    pub fn list_repairs(
        &self,
        who: &Principal,
        filter: &CaseFilter,
        now: DateTime<Utc>,
    ) -> Result<Page<Repair>, Error> {
        self.list(who, filter, |c: &Repair| {
            !filter.overdue_only || c.overdue(now)
        })
    }

    /// Approves a repair: the record becomes 已修复 and every unexpired
    /// report that showed it is revoked with the reason.
    pub fn approve_repair(
        &self,
        who: &Principal,
        no: &CaseNo,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Repair, Error> {
        let case = self.load_for_decision::<Repair>(who, no)?;
        require_status(&case, RepairStatus::Applied, "审核")?;
        let record = self.record(&case.record_id)?;
        if record.status != RecordStatus::Active {
            return Err(Error::Conflict(format!(
                "记录当前状态为“{}”，不能修复",
                record.status.label().unwrap_or("正常")
            )));
        }
        let reason = reason.unwrap_or_else(|| format!("信用修复申请 {no} 经审核通过"));
        let changed = self.store.set_record_status(
            &case.record_id,
            RecordStatus::Repaired,
            &reason,
            &who.audit_name(),
            now,
        )?;
        self.close(
            no,
            RepairStatus::Applied,
            "审核",
            RepairStatus::Approved,
            Decision::new(who, reason, now).revoking(changed.revoked),
        )
    }

    pub fn reject_repair(
        &self,
        who: &Principal,
        no: &CaseNo,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Repair, Error> {
        self.load_for_decision::<Repair>(who, no)?;
        self.close(
            no,
            RepairStatus::Applied,
            "审核",
            RepairStatus::Rejected,
            Decision::new(who, reason.to_owned(), now),
        )
    }
}
