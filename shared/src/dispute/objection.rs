//! Objections (异议申诉): filed on a record, accepted or rejected, then
//! resolved by correcting, withdrawing or upholding the record.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Disputes;
use super::case::{
    Case, CaseFilter, CaseStatus, Decision, EvidenceInfo, conflict_status, require_status, view,
};
use super::case_no::{CaseKind, CaseNo};
use super::request::{Ground, ObjectionFiling, Resolution};
use crate::auth::Principal;
use crate::codes::{AuthorisationRef, ReportNo};
use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::Page;
use crate::record::{RecordId, RecordKind, RecordStatus};
use crate::store::Change;
use crate::uscc::CreditCode;
use crate::vocabulary::RevocationCategory;
use crate::window::in_china;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionStatus {
    /// 待受理
    Filed,
    /// 已受理，处理中
    Accepted,
    /// 不予受理
    Rejected,
    /// 已更正
    Corrected,
    /// 记录已撤销
    Withdrawn,
    /// 维持原记录
    Upheld,
}

impl ObjectionStatus {
    pub const ALL: [ObjectionStatus; 6] = [
        ObjectionStatus::Filed,
        ObjectionStatus::Accepted,
        ObjectionStatus::Rejected,
        ObjectionStatus::Corrected,
        ObjectionStatus::Withdrawn,
        ObjectionStatus::Upheld,
    ];

    /// As serialized and as the `status` filter names it.
    pub fn code(self) -> &'static str {
        match self {
            ObjectionStatus::Filed => "filed",
            ObjectionStatus::Accepted => "accepted",
            ObjectionStatus::Rejected => "rejected",
            ObjectionStatus::Corrected => "corrected",
            ObjectionStatus::Withdrawn => "withdrawn",
            ObjectionStatus::Upheld => "upheld",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ObjectionStatus::Filed => "待受理",
            ObjectionStatus::Accepted => "已受理，处理中",
            ObjectionStatus::Rejected => "不予受理",
            ObjectionStatus::Corrected => "已办结：记录已更正",
            ObjectionStatus::Withdrawn => "已办结：记录已撤销",
            ObjectionStatus::Upheld => "已办结：维持原记录",
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, ObjectionStatus::Filed | ObjectionStatus::Accepted)
    }
}

impl CaseStatus for ObjectionStatus {
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

/// An objection case. Times are China time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objection {
    pub no: CaseNo,
    pub status: ObjectionStatus,
    pub record_id: RecordId,
    pub record_kind: RecordKind,
    pub document_no: String,
    pub domain: String,
    pub uscc: CreditCode,
    pub entity_name: String,
    pub ground: Ground,
    pub statement: String,
    pub evidence: Option<EvidenceInfo>,
    pub filed_at: DateTime<FixedOffset>,
    pub filed_by: String,
    /// The entity's written authorisation counter staff filed under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorisation_ref: Option<AuthorisationRef>,
    pub accept_by: DateTime<FixedOffset>,
    pub accepted_at: Option<DateTime<FixedOffset>>,
    pub accepted_by: Option<String>,
    /// Set on acceptance.
    pub answer_by: Option<DateTime<FixedOffset>>,
    pub decided_at: Option<DateTime<FixedOffset>>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    /// Reports revoked by the correction or withdrawal.
    pub revoked_reports: Vec<ReportNo>,
}

impl Objection {
    /// Past `accept_by` and not accepted, or past `answer_by` and not resolved.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        match self.status {
            ObjectionStatus::Filed => now > self.accept_by,
            ObjectionStatus::Accepted => self.answer_by.is_some_and(|by| now > by),
            _ => false,
        }
    }

    /// The case as the API answers it: the stored fields plus
    /// `status_label`, `ground_label` and `overdue`.
    pub fn view(&self, now: DateTime<Utc>) -> Result<Value, Error> {
        view(
            self,
            [
                ("status_label", json!(self.status.label())),
                ("ground_label", json!(self.ground.label())),
                ("overdue", json!(self.overdue(now))),
            ],
        )
    }
}

impl Case for Objection {
    type Status = ObjectionStatus;
    const KIND: CaseKind = CaseKind::Objection;

    fn no(&self) -> &CaseNo {
        &self.no
    }

    fn status(&self) -> ObjectionStatus {
        self.status
    }

    fn uscc(&self) -> &CreditCode {
        &self.uscc
    }

    fn domain(&self) -> &str {
        &self.domain
    }

    /// Acceptance is due by `accept_by`; once accepted, the answer by
    /// `answer_by`.
    fn deadline(&self) -> Option<DateTime<FixedOffset>> {
        self.answer_by.or(Some(self.accept_by))
    }

    fn filed_at(&self) -> DateTime<FixedOffset> {
        self.filed_at
    }

    fn decide(&mut self, status: ObjectionStatus, decision: Decision) {
        self.status = status;
        self.decided_at = Some(decision.at);
        self.decided_by = Some(decision.by);
        self.decision_reason = Some(decision.reason);
        self.revoked_reports = decision.revoked;
    }
}

impl<K: KeyValue + ?Sized> Disputes<'_, K> {
    /// Files an objection: the record goes under objection (异议处理中)
    /// until the case is closed. One open case per record.
    pub fn file_objection(
        &self,
        who: &Principal,
        filing: ObjectionFiling,
        now: DateTime<Utc>,
    ) -> Result<Objection, Error> {
        let record = self.record_to_file_on(
            who,
            CaseKind::Objection,
            &filing.record_id,
            filing.uscc.as_ref(),
            filing.authorisation_ref.as_ref(),
        )?;
        match record.status {
            RecordStatus::Withdrawn => {
                return Err(Error::Conflict(
                    "该记录已撤销，不再公示，无需提出异议".into(),
                ));
            }
            RecordStatus::Repaired => {
                return Err(Error::Conflict("该记录已完成信用修复，无需提出异议".into()));
            }
            RecordStatus::Active | RecordStatus::UnderObjection => {}
        }
        let no = self.number_for(CaseKind::Objection, &record.id, now)?;
        let filed_at = in_china(now);
        let common = record.record.common();
        let case = Objection {
            no: no.clone(),
            status: ObjectionStatus::Filed,
            record_id: record.id.clone(),
            record_kind: record.record.kind(),
            document_no: common.document_no.clone(),
            domain: common.domain.clone(),
            uscc: common.uscc.clone(),
            entity_name: common.entity_name.clone(),
            ground: filing.ground,
            statement: filing.statement,
            evidence: self.store_evidence(&no, filing.evidence.as_ref())?,
            filed_at,
            filed_by: who.audit_name(),
            authorisation_ref: filing.authorisation_ref,
            accept_by: self
                .config
                .calendar
                .add_working_days(filed_at, self.config.accept_working_days),
            accepted_at: None,
            accepted_by: None,
            answer_by: None,
            decided_at: None,
            decided_by: None,
            decision_reason: None,
            revoked_reports: vec![],
        };
        self.create(&case)?;
        self.store.set_record_status(
            &record.id,
            RecordStatus::UnderObjection,
            &format!("异议申诉 {no}（{}）", filing.ground.label()),
            &who.audit_name(),
            now,
        )?;
        Ok(case)
    }

    pub fn objection(&self, who: &Principal, no: &CaseNo) -> Result<Objection, Error> {
        self.read(who, no)
    }

    /// The objections a principal may see, newest first.
    pub fn list_objections(
        &self,
        who: &Principal,
        filter: &CaseFilter,
        now: DateTime<Utc>,
    ) -> Result<Page<Objection>, Error> {
        self.list(who, filter, |c: &Objection| {
            !filter.overdue_only || c.overdue(now)
        })
    }

    /// Accepts a filed objection; the answer is due `answer_working_days`
    /// from now.
    pub fn accept_objection(
        &self,
        who: &Principal,
        no: &CaseNo,
        now: DateTime<Utc>,
    ) -> Result<Objection, Error> {
        self.load_for_decision::<Objection>(who, no)?;
        let at = in_china(now);
        let answer_by = self
            .config
            .calendar
            .add_working_days(at, self.config.answer_working_days);
        self.transition(no, ObjectionStatus::Filed, "受理", |c: &mut Objection| {
            c.status = ObjectionStatus::Accepted;
            c.accepted_at = Some(at);
            c.accepted_by = Some(who.audit_name());
            c.answer_by = Some(answer_by);
        })
    }

    /// Declines to accept a filed objection (不予受理): the record is
    /// active again, unchanged.
    pub fn reject_objection(
        &self,
        who: &Principal,
        no: &CaseNo,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Objection, Error> {
        self.load_for_decision::<Objection>(who, no)?;
        let case: Objection = self.close(
            no,
            ObjectionStatus::Filed,
            "作出不予受理决定",
            ObjectionStatus::Rejected,
            Decision::new(who, reason.to_owned(), now),
        )?;
        self.release_record(
            &case.record_id,
            &format!("异议申诉 {no} 不予受理：{reason}"),
            &who.audit_name(),
            now,
        )?;
        Ok(case)
    }

    /// Answers an accepted objection. Correction and withdrawal revoke
    /// every unexpired report that showed the record; upholding leaves
    /// them valid. The record changes first and the case closes after, so
    /// a case never says corrected for a record that was not.
    pub fn resolve_objection(
        &self,
        who: &Principal,
        no: &CaseNo,
        resolution: Resolution,
        now: DateTime<Utc>,
    ) -> Result<Objection, Error> {
        let case = self.load_for_decision::<Objection>(who, no)?;
        if case.status == ObjectionStatus::Filed {
            return Err(conflict_status(
                no,
                case.status.label(),
                "作出处理决定：请先受理",
            ));
        }
        require_status(&case, ObjectionStatus::Accepted, "再次处理")?;
        let actor = who.audit_name();
        let id = &case.record_id;
        let (status, reason, revoked) = match resolution {
            Resolution::Correct(record) => {
                if record.id() != *id {
                    return Err(Error::InvalidField {
                        field: "record".into(),
                        detail: "更正后的记录应与原记录的领域（domain）、类型（kind）和文书号（document_no）一致".into(),
                    });
                }
                let upserted = self.store.correct_record(
                    *record,
                    &actor,
                    now,
                    RevocationCategory::ObjectionUpheld,
                )?;
                if upserted.change == Change::Unchanged {
                    return Err(Error::InvalidField {
                        field: "record".into(),
                        detail: "更正后的记录与原记录相同；如维持原记录，请使用 uphold".into(),
                    });
                }
                let reason = format!("异议申诉 {no} 成立，记录已更正");
                self.release_record(id, &reason, &actor, now)?;
                (ObjectionStatus::Corrected, reason, upserted.revoked)
            }
            Resolution::Withdraw { reason } => {
                let changed = self.store.withdraw_record(
                    id,
                    RevocationCategory::ObjectionUpheld,
                    &format!("异议申诉 {no} 成立，{reason}"),
                    &actor,
                    now,
                )?;
                (ObjectionStatus::Withdrawn, reason, changed.revoked)
            }
            Resolution::Uphold { reason } => {
                self.release_record(
                    id,
                    &format!("异议申诉 {no} 不成立，维持原记录：{reason}"),
                    &actor,
                    now,
                )?;
                (ObjectionStatus::Upheld, reason, vec![])
            }
        };
        self.close(
            no,
            ObjectionStatus::Accepted,
            "再次处理",
            status,
            Decision::new(who, reason, now).revoking(revoked),
        )
    }
}
