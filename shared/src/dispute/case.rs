//! What objections and repairs share: a case stored by compare-and-swap
//! under its number, listed through its entity, domain and global indexes,
//! moved between statuses by read-check-update loops, with its evidence
//! stored beside it.

use chrono::{DateTime, FixedOffset, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Disputes;
use super::access::{check_decider, check_filer, may_read};
use super::case_no::{CaseKind, CaseNo};
use super::objection::{Objection, ObjectionStatus};
use super::repair::{Repair, RepairStatus};
use super::request::{Evidence, EvidenceType};
use crate::auth::Principal;
use crate::catalog::catalog;
use crate::codes::AuthorisationRef;
use crate::codes::{ReportNo, hex};
use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::{Cursor, Listing, Order, Page, PageRequest};
use crate::record::{RecordId, RecordStatus, StoredRecord};
use crate::store::keys::{self, ListKeys};
use crate::store::{contention, from_json, to_json};
use crate::uscc::CreditCode;
use crate::window::{china_date, in_china};

/// Evidence is stored in values of at most this size (stores cap values
/// around 1 MB).
pub const EVIDENCE_CHUNK: usize = 512 * 1024;
const MAX_CAS_ATTEMPTS: usize = 64;

/// A case's status: open while the unit has yet to act on it.
pub(super) trait CaseStatus: Copy + PartialEq {
    /// As serialized and as the `status` filter names it.
    fn code(self) -> &'static str;
    fn label(self) -> &'static str;
    fn is_open(self) -> bool;
}

/// An objection or a repair, as stored under `case/{no}`.
pub(super) trait Case: Serialize + DeserializeOwned {
    type Status: CaseStatus;
    const KIND: CaseKind;

    fn no(&self) -> &CaseNo;
    fn status(&self) -> Self::Status;
    fn uscc(&self) -> &CreditCode;
    fn domain(&self) -> &str;
    /// When it was filed: a decision's processing time runs from it.
    fn filed_at(&self) -> DateTime<FixedOffset>;
    /// Closes the case with the unit's decision.
    fn decide(&mut self, status: Self::Status, decision: Decision);
    /// The deadline the unit's next step is due by, if the case has one:
    /// a decision is on time or overdue against it (usage figures).
    fn deadline(&self) -> Option<DateTime<FixedOffset>> {
        None
    }
}

/// The unit's answer that closes a case.
#[derive(Clone)]
pub(super) struct Decision {
    pub at: DateTime<FixedOffset>,
    pub by: String,
    pub reason: String,
    /// Reports revoked by the decision's change to the record.
    pub revoked: Vec<ReportNo>,
}

impl Decision {
    pub fn new(who: &Principal, reason: String, now: DateTime<Utc>) -> Decision {
        Decision {
            at: in_china(now),
            by: who.audit_name(),
            reason,
            revoked: vec![],
        }
    }

    pub fn revoking(self, revoked: Vec<ReportNo>) -> Decision {
        Decision { revoked, ..self }
    }
}

/// When a decision was made, as the clock the day tallies are keyed by.
fn decision_now(decision: &Decision) -> DateTime<Utc> {
    decision.at.with_timezone(&Utc)
}

/// The case as the API answers it: the stored fields plus `extra`.
pub(super) fn view<const N: usize>(
    case: &impl Case,
    extra: [(&str, Value); N],
) -> Result<Value, Error> {
    let value = serde_json::to_value(case)
        .map_err(|e| Error::Internal(format!("serialize case {}: {e}", case.no())))?;
    let Value::Object(mut fields) = value else {
        return Err(Error::Internal(format!(
            "case {} does not serialize as an object",
            case.no()
        )));
    };
    fields.extend(extra.map(|(name, value)| (name.to_owned(), value)));
    Ok(Value::Object(fields))
}

/// What is stored about an evidence file in its case; the bytes are kept
/// under their own keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceInfo {
    pub media_type: EvidenceType,
    pub size: u64,
    pub sha256: String,
    pub chunks: u32,
}

/// What every case has, read without knowing its kind.
#[derive(Deserialize)]
struct CaseHead {
    uscc: CreditCode,
    domain: String,
    evidence: Option<EvidenceInfo>,
}

/// Which cases a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Any,
    Open,
    Closed,
    /// One status, by its code.
    Is(&'static str),
}

impl StatusFilter {
    /// `open`, `closed`, a status code of the kind, or none.
    pub fn parse(kind: CaseKind, s: Option<&str>) -> Result<StatusFilter, Error> {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(StatusFilter::Any);
        };
        let codes: Vec<&'static str> = match kind {
            CaseKind::Objection => ObjectionStatus::ALL.map(ObjectionStatus::code).to_vec(),
            CaseKind::Repair => RepairStatus::ALL.map(RepairStatus::code).to_vec(),
        };
        match s {
            "open" => Ok(StatusFilter::Open),
            "closed" => Ok(StatusFilter::Closed),
            _ => codes
                .iter()
                .find(|c| **c == s)
                .map(|c| StatusFilter::Is(c))
                .ok_or_else(|| Error::InvalidField {
                    field: "status".into(),
                    detail: format!("“{s}”应为 open、closed 或 {}", codes.join("、")),
                }),
        }
    }

    fn admits(self, status: impl CaseStatus) -> bool {
        match self {
            StatusFilter::Any => true,
            StatusFilter::Open => status.is_open(),
            StatusFilter::Closed => !status.is_open(),
            StatusFilter::Is(code) => code == status.code(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseFilter {
    pub status: StatusFilter,
    /// Past a deadline (objections: to accept or to answer; repairs: to decide).
    pub overdue_only: bool,
    /// An entity's cases: required for staff, optional for departments and admin.
    pub uscc: Option<CreditCode>,
    /// Which page of the listing.
    pub page: PageRequest,
}

fn not_found(no: &CaseNo) -> Error {
    Error::NotFound(format!("没有编号为 {no} 的{}", no.kind().label()))
}

pub(super) fn conflict_status(no: &CaseNo, label: &str, wanted: &str) -> Error {
    Error::Conflict(format!("案件 {no} 当前状态为“{label}”，不能{wanted}"))
}

/// `wanted` (e.g. "审核") is allowed only in status `from`.
pub(super) fn require_status<C: Case>(
    case: &C,
    from: C::Status,
    wanted: &str,
) -> Result<(), Error> {
    if case.status() == from {
        Ok(())
    } else {
        Err(conflict_status(case.no(), case.status().label(), wanted))
    }
}

impl<K: KeyValue + ?Sized> Disputes<'_, K> {
    fn load<T: DeserializeOwned>(&self, no: &CaseNo) -> Result<(T, Vec<u8>), Error> {
        let key = keys::case(no);
        let bytes = self.kv.get(&key)?.ok_or_else(|| not_found(no))?;
        Ok((from_json(&key, &bytes)?, bytes))
    }

    /// The case, for those who may read it.
    pub(super) fn read<C: Case>(&self, who: &Principal, no: &CaseNo) -> Result<C, Error> {
        let (case, _) = self.load::<C>(no)?;
        // A case the caller may not read answers as one that does not exist.
        if !may_read(who, case.uscc(), case.domain()) {
            return Err(not_found(no));
        }
        Ok(case)
    }

    /// The case, for the unit that decides it.
    pub(super) fn load_for_decision<C: Case>(
        &self,
        who: &Principal,
        no: &CaseNo,
    ) -> Result<C, Error> {
        let (case, _) = self.load::<C>(no)?;
        if !may_read(who, case.uscc(), case.domain()) {
            return Err(not_found(no));
        }
        check_decider(who, case.domain())?;
        Ok(case)
    }

    /// Applies `change` to the stored case if it is still in status
    /// `from`, by compare-and-swap, retrying on contention with a fresh
    /// read.
    pub(super) fn transition<C: Case>(
        &self,
        no: &CaseNo,
        from: C::Status,
        wanted: &str,
        mut change: impl FnMut(&mut C),
    ) -> Result<C, Error> {
        let key = keys::case(no);
        for _ in 0..MAX_CAS_ATTEMPTS {
            let (mut case, bytes) = self.load::<C>(no)?;
            require_status(&case, from, wanted)?;
            change(&mut case);
            if self
                .kv
                .compare_and_swap(&key, Some(&bytes), &to_json(&case)?)?
            {
                return Ok(case);
            }
        }
        Err(contention(&key))
    }

    /// Closes a case still in status `from` with `decision`.
    pub(super) fn close<C: Case>(
        &self,
        no: &CaseNo,
        from: C::Status,
        wanted: &str,
        status: C::Status,
        decision: Decision,
    ) -> Result<C, Error> {
        let deadline = std::cell::Cell::new(None);
        let case = self.transition(no, from, wanted, |c: &mut C| {
            deadline.set(c.deadline());
            c.decide(status, decision.clone())
        })?;
        self.store.tally_usage(decision_now(&decision), |t| {
            t.add_decided_case(C::KIND.noun(), case.filed_at(), decision.at, deadline.get())
        })?;
        Ok(case)
    }

    /// The record a case is filed on, once the filer may file on it.
    pub(super) fn record_to_file_on(
        &self,
        who: &Principal,
        kind: CaseKind,
        id: &RecordId,
        named: Option<&CreditCode>,
        authorisation: Option<&AuthorisationRef>,
    ) -> Result<StoredRecord, Error> {
        let record = self.record(id)?;
        check_filer(who, named, authorisation, &record, kind)?;
        Ok(record)
    }

    /// A new case number that is the record's current case.
    pub(super) fn number_for(
        &self,
        kind: CaseKind,
        id: &RecordId,
        now: DateTime<Utc>,
    ) -> Result<CaseNo, Error> {
        let day = china_date(now);
        let seq = self.kv.increment(&keys::case_sequence(kind, day), 1)?;
        let no = CaseNo::new(kind, day, seq.max(1) as u64);
        self.claim_record(id, &no)?;
        Ok(no)
    }

    fn is_open(&self, no: &CaseNo) -> Result<bool, Error> {
        let key = keys::case(no);
        let Some(bytes) = self.kv.get(&key)? else {
            return Ok(false);
        };
        Ok(match no.kind() {
            CaseKind::Objection => from_json::<Objection>(&key, &bytes)?.status.is_open(),
            CaseKind::Repair => from_json::<Repair>(&key, &bytes)?.status.is_open(),
        })
    }

    /// Makes `no` the record's current case, unless another case on the
    /// record is still open (409 naming it). A marker left by a case that
    /// was never stored, or is closed, is taken over.
    fn claim_record(&self, id: &RecordId, no: &CaseNo) -> Result<(), Error> {
        let key = keys::record_case(id);
        for _ in 0..MAX_CAS_ATTEMPTS {
            let current = self.kv.get(&key)?;
            if let Some(bytes) = &current
                && let Ok(other) = String::from_utf8_lossy(bytes).parse::<CaseNo>()
                && self.is_open(&other)?
            {
                return Err(Error::Conflict(format!(
                    "该记录已有未办结的{} {other}，请等待处理结果",
                    other.kind().label()
                )));
            }
            if self
                .kv
                .compare_and_swap(&key, current.as_deref(), no.as_str().as_bytes())?
            {
                return Ok(());
            }
        }
        Err(contention(&key))
    }

    pub(super) fn store_evidence(
        &self,
        no: &CaseNo,
        evidence: Option<&Evidence>,
    ) -> Result<Option<EvidenceInfo>, Error> {
        let Some(evidence) = evidence else {
            return Ok(None);
        };
        let chunks: Vec<&[u8]> = evidence.bytes.chunks(EVIDENCE_CHUNK).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            self.kv.set(&keys::evidence_chunk(no, i as u32), chunk)?;
        }
        Ok(Some(EvidenceInfo {
            media_type: evidence.media_type,
            size: evidence.bytes.len() as u64,
            sha256: hex(&Sha256::digest(&evidence.bytes)),
            chunks: chunks.len() as u32,
        }))
    }

    /// Writes a new case and its three index entries.
    pub(super) fn create<C: Case>(&self, case: &C) -> Result<(), Error> {
        let no = case.no();
        if !self
            .kv
            .compare_and_swap(&keys::case(no), None, &to_json(case)?)?
        {
            return Err(Error::Internal(format!("case number {no} already taken")));
        }
        for list in [
            keys::entity_cases(case.uscc(), C::KIND),
            keys::domain_cases(case.domain(), C::KIND),
            keys::all_cases(C::KIND),
        ] {
            self.store.append(&list, no.as_str())?;
        }
        self.store
            .tally_usage(case.filed_at().with_timezone(&Utc), |t| {
                t.add_filed_case(C::KIND.noun())
            })?;
        Ok(())
    }

    pub(super) fn record(&self, id: &RecordId) -> Result<StoredRecord, Error> {
        self.store
            .get_record(id)?
            .ok_or_else(|| Error::NotFound(format!("没有编号为 {id} 的记录")))
    }

    /// Puts a record under objection back to active; any other status
    /// (e.g. withdrawn meanwhile) is left alone.
    pub(super) fn release_record(
        &self,
        id: &RecordId,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        if self.record(id)?.status == RecordStatus::UnderObjection {
            self.store
                .set_record_status(id, RecordStatus::Active, reason, actor, now)?;
        }
        Ok(())
    }

    /// The cases a principal may see that pass `filter` and `admits`,
    /// newest first.
    pub(super) fn list<C: Case>(
        &self,
        who: &Principal,
        filter: &CaseFilter,
        admits: impl Fn(&C) -> bool,
    ) -> Result<Page<C>, Error> {
        let numbers = self.visible(who, C::KIND, filter.uscc.as_ref(), &filter.page)?;
        let case_keys: Vec<String> = numbers.items.iter().map(keys::case).collect();
        let mut cases: Vec<C> = self.store.get_many_json(&case_keys)?;
        cases.retain(|c| {
            may_read(who, c.uscc(), c.domain())
                && filter.uscc.as_ref().is_none_or(|u| u == c.uscc())
                && filter.status.admits(c.status())
                && admits(c)
        });
        let mut seen = std::collections::HashSet::new();
        cases.retain(|c| seen.insert(c.no().clone()));
        Ok(Page {
            items: cases,
            next: numbers.next,
        })
    }

    /// A page of the case numbers a principal's listing reads, newest
    /// first: the entity's own index, the indexes of a department's
    /// domains (merged by case number, at most `limit` slots read from
    /// each), or everything.
    fn visible(
        &self,
        who: &Principal,
        kind: CaseKind,
        uscc: Option<&CreditCode>,
        page: &PageRequest,
    ) -> Result<Page<CaseNo>, Error> {
        let lists = match who {
            Principal::Entity { uscc: own, .. } => match uscc {
                Some(u) if u != own => {
                    return Err(Error::Forbidden("只能查看本主体的案件".into()));
                }
                _ => vec![keys::entity_cases(own, kind)],
            },
            Principal::Staff { .. } => vec![keys::entity_cases(
                uscc.ok_or_else(|| Error::MissingField {
                    field: "uscc".into(),
                })?,
                kind,
            )],
            Principal::Department { unit, .. } => catalog()
                .data_domains_of_unit(unit)
                .iter()
                .map(|domain| keys::domain_cases(&domain.code, kind))
                .collect(),
            Principal::Admin { .. } => match uscc {
                Some(u) => vec![keys::entity_cases(u, kind)],
                None => vec![keys::all_cases(kind)],
            },
        };
        self.merged_page(kind.listing(), &lists, page)
    }

    /// Newest first across `lists`: each list is read from its position
    /// (at most `limit` slots), the newest `limit` numbers of them taken,
    /// and each list's position moved past what was taken. A position of
    /// 0 in the cursor is a list read to its end.
    pub(super) fn merged_page(
        &self,
        listing: Listing,
        lists: &[ListKeys],
        page: &PageRequest,
    ) -> Result<Page<CaseNo>, Error> {
        let positions = page.positions(listing, lists.len())?;
        let mut heads: Vec<std::collections::VecDeque<(u64, CaseNo)>> = Vec::new();
        let mut after_read = Vec::new();
        for (list, position) in lists.iter().zip(&positions) {
            if *position == Some(0) {
                heads.push(Default::default());
                after_read.push(0);
                continue;
            }
            let listed = self
                .store
                .list_page(list, Order::NewestFirst, *position, page.limit)?;
            heads.push(
                listed
                    .values
                    .into_iter()
                    .filter_map(|(slot, no)| Some((slot, no.parse().ok()?)))
                    .collect(),
            );
            after_read.push(listed.next.unwrap_or(0));
        }
        let mut taken = Vec::new();
        while taken.len() < page.limit {
            let newest = heads
                .iter()
                .enumerate()
                .filter_map(|(i, head)| head.front().map(|(_, no)| (i, no)))
                .max_by(|(_, a), (_, b)| a.cmp(b))
                .map(|(i, _)| i);
            let Some(i) = newest else { break };
            if let Some((_, no)) = heads[i].pop_front() {
                taken.push(no);
            }
        }
        // A list with numbers left over resumes at the first of them.
        let next: Vec<u64> = heads
            .iter()
            .zip(after_read)
            .map(|(head, after)| head.front().map_or(after, |(slot, _)| *slot))
            .collect();
        Ok(Page {
            items: taken,
            next: next
                .iter()
                .any(|position| *position > 0)
                .then(|| Cursor::at(listing, next)),
        })
    }

    /// The evidence file of a case, for those who may read the case.
    pub fn evidence(&self, who: &Principal, no: &CaseNo) -> Result<Evidence, Error> {
        let (head, _) = self.load::<CaseHead>(no)?;
        if !may_read(who, &head.uscc, &head.domain) {
            return Err(not_found(no));
        }
        let info = head
            .evidence
            .ok_or_else(|| Error::NotFound(format!("案件 {no} 没有上传证明材料")))?;
        let chunk_keys: Vec<String> = (0..info.chunks)
            .map(|i| keys::evidence_chunk(no, i))
            .collect();
        let mut bytes = Vec::with_capacity(info.size as usize);
        for part in self.kv.get_many(&chunk_keys)? {
            bytes.extend(
                part.ok_or_else(|| {
                    Error::Internal(format!("evidence of {no} is missing a chunk"))
                })?,
            );
        }
        Ok(Evidence {
            media_type: info.media_type,
            bytes,
        })
    }
}
