//! The record types as stored and served.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codes::hex;
use crate::error::Error;
use crate::money::WanYuan;
use crate::uscc::CreditCode;
use crate::vocabulary::{
    CoerciveMeasureType, PenaltyCategory, Procedure, RecordKind, RecordStatus, Severity,
};

/// Fields every kind of record has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Common {
    /// A data-domain code of the catalog.
    pub domain: String,
    /// 决定书文号 / 认定文书号.
    pub document_no: String,
    /// 行政相对人名称.
    pub entity_name: String,
    pub uscc: CreditCode,
    /// 处罚机关 / 认定部门 / 作出决定机关.
    pub authority: String,
    pub authority_uscc: CreditCode,
    /// 数据来源单位.
    pub source_unit: String,
    pub source_unit_uscc: CreditCode,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Penalty {
    #[serde(flatten)]
    pub common: Common,
    /// 行政相对人类别, e.g. 法人及非法人组织 / 个体工商户.
    pub entity_category: String,
    pub legal_representative: Option<String>,
    pub violation_type: String,
    pub facts: String,
    pub legal_basis: String,
    pub penalty_categories: Vec<PenaltyCategory>,
    pub penalty_content: String,
    pub fine_wan_yuan: Option<WanYuan>,
    pub confiscated_wan_yuan: Option<WanYuan>,
    /// 暂扣或吊销证照名称及编号.
    pub license_action: Option<String>,
    pub decided_on: NaiveDate,
    /// 处罚有效期.
    pub penalty_valid_until: NaiveDate,
    /// 公示截止期.
    pub publicity_until: Option<NaiveDate>,
    pub procedure: Procedure,
    /// 不予行政处罚.
    pub not_penalized: bool,
    pub severity: Option<Severity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    #[serde(flatten)]
    pub common: Common,
    pub list_name: String,
    /// 列入原因.
    pub reason: String,
    /// 认定依据.
    pub basis: Option<String>,
    pub listed_on: NaiveDate,
    /// `None` while listed.
    pub removed_on: Option<NaiveDate>,
    pub removal_reason: Option<String>,
    pub removal_authority: Option<String>,
}

/// An administrative coercive measure (行政强制措施). `document_no` is the
/// 决定书文号; `authority` the 实施机关.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoerciveMeasure {
    #[serde(flatten)]
    pub common: Common,
    /// 强制措施种类, one or more.
    pub measure_types: Vec<CoerciveMeasureType>,
    /// 事由.
    pub cause: String,
    /// 依据.
    pub legal_basis: String,
    /// 决定日期.
    pub decided_on: NaiveDate,
    /// 解除日期: `None` while in force; never before `decided_on`.
    pub lifted_on: Option<NaiveDate>,
}

/// An effective criminal judgment (刑事裁判文书). `document_no` is the
/// 案号; `authority` the 审理法院.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriminalJudgment {
    #[serde(flatten)]
    pub common: Common,
    /// 罪名.
    pub charges: String,
    /// 判决结果.
    pub verdict: String,
    /// 判决日期.
    pub judged_on: NaiveDate,
    /// 生效日期: never before `judged_on`.
    pub effective_on: NaiveDate,
    /// 是否单位犯罪.
    pub unit_crime: bool,
}

/// A validated record. Serializes flat with a `kind` tag, as docs/api.md names
/// the fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Penalty(Penalty),
    DishonestList(ListEntry),
    AbnormalList(ListEntry),
    CoerciveMeasure(CoerciveMeasure),
    CriminalJudgment(CriminalJudgment),
}

/// A record's stable, URL-safe id: 32 hex characters of
/// SHA-256(domain, kind, document_no).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecordId(String);

impl RecordId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for RecordId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(RecordId(s.to_owned()))
        } else {
            Err(Error::InvalidField {
                field: "id".into(),
                detail: "记录编号应为 32 位小写十六进制字符".into(),
            })
        }
    }
}

impl TryFrom<String> for RecordId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<RecordId> for String {
    fn from(r: RecordId) -> String {
        r.0
    }
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Record {
    pub fn common(&self) -> &Common {
        match self {
            Record::Penalty(p) => &p.common,
            Record::DishonestList(l) | Record::AbnormalList(l) => &l.common,
            Record::CoerciveMeasure(m) => &m.common,
            Record::CriminalJudgment(j) => &j.common,
        }
    }

    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Penalty(_) => RecordKind::Penalty,
            Record::DishonestList(_) => RecordKind::DishonestList,
            Record::AbnormalList(_) => RecordKind::AbnormalList,
            Record::CoerciveMeasure(_) => RecordKind::CoerciveMeasure,
            Record::CriminalJudgment(_) => RecordKind::CriminalJudgment,
        }
    }

    pub fn uscc(&self) -> &CreditCode {
        &self.common().uscc
    }

    pub fn domain(&self) -> &str {
        &self.common().domain
    }

    pub fn id(&self) -> RecordId {
        let c = self.common();
        let mut h = Sha256::new();
        for part in [
            c.domain.as_str(),
            self.kind().as_str(),
            c.document_no.as_str(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        RecordId(hex(&h.finalize()[..16]))
    }
}

/// A record as stored, with its id, status and history stamps. Serializes
/// flat: `id`, `status`, … and the record's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecord {
    pub id: RecordId,
    pub status: RecordStatus,
    pub status_reason: Option<String>,
    pub status_changed_at: Option<DateTime<FixedOffset>>,
    /// Incremented by every change of content or status.
    pub version: u64,
    pub created_at: DateTime<FixedOffset>,
    pub created_by: String,
    pub updated_at: DateTime<FixedOffset>,
    pub updated_by: String,
    #[serde(flatten)]
    pub record: Record,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::samples::penalty;
    use serde_json::json;

    #[test]
    fn identity_is_domain_kind_document_no() {
        let a = Record::from_json(&penalty("A-1", "2026-03-01")).unwrap();
        let mut changed = penalty("A-1", "2026-03-02");
        changed["facts"] = json!("另一事实");
        let b = Record::from_json(&changed).unwrap();
        assert_eq!(a.id(), b.id());
        assert_ne!(
            a.id(),
            Record::from_json(&penalty("A-2", "2026-03-01"))
                .unwrap()
                .id()
        );
        assert_eq!(a.id().as_str().len(), 32);
    }
}
