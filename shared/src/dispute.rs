//! Objections (异议申诉) and credit repair (信用修复): the workflow over
//! the record store.
//!
//! An objection is filed by the entity (or counter staff on its behalf) on
//! one of its records; the record shows 异议处理中 while the case is open.
//! The unit answering for the record's data domain accepts or rejects it
//! within `objection_accept_working_days`, then resolves it within
//! `objection_answer_working_days` of acceptance: correct the record, withdraw
//! it, or uphold it. A correction or withdrawal revokes every unexpired
//! report that showed the record; upholding leaves them valid.
//!
//! A repair is applied for on a penalty once its minimum publicity period
//! (by severity, from the decision date) has passed; the unit approves it
//! (record 已修复, reports that showed it revoked) or rejects it.
//!
//! Deadlines count working days: Monday to Friday, minus the dates of the
//! `public_holidays` variable, plus the dates of `working_weekends` (调休).
//! Both lists are empty by default, so by default public holidays are not
//! modelled: a deployment sets them each year from the State Council notice.
//! A deadline is the same time of day on the Nth working day after filing
//! (acceptance, for the answer); 0 days means at once.
//!
//! Key layout (consistent with [`crate::store`]):
//!
//! | key | value |
//! |---|---|
//! | `case/{no}` | [`Objection`] or [`Repair`] JSON; changed only by compare-and-swap |
//! | `case/{no}/evidence/{i}` | evidence bytes, in chunks of [`EVIDENCE_CHUNK`] (never in listings) |
//! | `rec/{id}/case` | the record's latest case number: a new case may start once it is closed |
//! | `ent/{uscc}/obj/n`, `ent/{uscc}/obj/{seq}` | the entity's objections (`rep` for repairs) |
//! | `dom/{domain}/obj/n`, `dom/{domain}/obj/{seq}` | objections on a data domain's records |
//! | `all/obj/n`, `all/obj/{seq}` | every objection, for the administrator |
//! | `seq/objection/{yyyymmdd}`, `seq/repair/{yyyymmdd}` | counters: the day's case sequence |

use std::collections::BTreeSet;

use base64::Engine;
use chrono::{DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, Utc, Weekday};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::catalog::catalog;
use crate::codes::{ReportNo, hex};
use crate::config::RuleConfig;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::record::{Penalty, Record, RecordId, RecordKind, RecordStatus, Severity, StoredRecord};
use crate::store::{Change, Store, contention, from_json, to_json};
use crate::uscc::CreditCode;
use crate::window::{china_date, in_china};

/// Largest evidence file, decoded: 2 MiB.
pub const MAX_EVIDENCE_BYTES: usize = 2 * 1024 * 1024;
/// Evidence is stored in values of at most this size (stores cap values
/// around 1 MB).
pub const EVIDENCE_CHUNK: usize = 512 * 1024;
/// Longest statement or reason, in characters.
pub const MAX_STATEMENT_CHARS: usize = 2000;
/// Longest deadline, in working days: a bound on configuration, not policy.
const MAX_WORKING_DAYS: u32 = 250;
const MAX_CAS_ATTEMPTS: usize = 64;

// ----- calendar and configuration -----

/// Which days count as working days for deadlines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    working_weekends: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        working_weekends: impl IntoIterator<Item = NaiveDate>,
    ) -> WorkCalendar {
        WorkCalendar {
            holidays: holidays.into_iter().collect(),
            working_weekends: working_weekends.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        self.working_weekends.contains(&day)
            || !(matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
                || self.holidays.contains(&day))
    }

    /// The same time of day on the `days`th working day after `start`'s
    /// date; `start` itself for 0.
    pub fn add_working_days(
        &self,
        start: DateTime<FixedOffset>,
        days: u32,
    ) -> DateTime<FixedOffset> {
        let mut at = start;
        let mut left = days;
        while left > 0 {
            at += Duration::days(1);
            if self.is_working_day(at.date_naive()) {
                left -= 1;
            }
        }
        at
    }
}

/// Minimum publicity before a repair may be applied for, in months from the
/// decision date, by severity (信用修复管理办法: minor at most 3 months,
/// general 3 months to 1 year, serious 1 to 3 years). A penalty without a
/// severity is treated as general.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairPeriods {
    pub minor: u32,
    pub general: u32,
    pub serious: u32,
}

impl RepairPeriods {
    pub fn min_months(&self, severity: Option<Severity>) -> u32 {
        match severity {
            Some(Severity::Minor) => self.minor,
            Some(Severity::Serious) => self.serious,
            Some(Severity::General) | None => self.general,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeConfig {
    pub accept_working_days: u32,
    pub answer_working_days: u32,
    pub calendar: WorkCalendar,
    pub repair_min_months: RepairPeriods,
}

impl Default for DisputeConfig {
    fn default() -> Self {
        DisputeConfig::from_lookup(&RuleConfig::default(), |_| None)
            .expect("the defaults are valid (tested)")
    }
}

impl DisputeConfig {
    /// The objection limits of `rules`, plus the variables
    /// `repair_min_months_minor` (default 0), `repair_min_months_general`
    /// (3), `repair_min_months_serious` (12), `public_holidays` and
    /// `working_weekends` (dates `YYYY-MM-DD`, separated by commas or
    /// spaces; default empty).
    pub fn from_lookup(
        rules: &RuleConfig,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<DisputeConfig, Error> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let months = |name: &str, default: u32| match get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n <= 120 => Ok(n),
                _ => Err(bad(name, format!("“{v}”应为 0 到 120 之间的整数（月）"))),
            },
        };
        let dates = |name: &str| -> Result<Vec<NaiveDate>, Error> {
            get(name)
                .unwrap_or_default()
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map_err(|_| bad(name, format!("“{s}”不是 YYYY-MM-DD 格式的日期")))
                })
                .collect()
        };
        for (name, days) in [
            (
                "objection_accept_working_days",
                rules.objection_accept_working_days,
            ),
            (
                "objection_answer_working_days",
                rules.objection_answer_working_days,
            ),
        ] {
            if days > MAX_WORKING_DAYS {
                return Err(bad(
                    name,
                    format!("{days} 超过 {MAX_WORKING_DAYS} 个工作日的上限"),
                ));
            }
        }
        Ok(DisputeConfig {
            accept_working_days: rules.objection_accept_working_days,
            answer_working_days: rules.objection_answer_working_days,
            calendar: WorkCalendar::new(dates("public_holidays")?, dates("working_weekends")?),
            repair_min_months: RepairPeriods {
                minor: months("repair_min_months_minor", 0)?,
                general: months("repair_min_months_general", 3)?,
                serious: months("repair_min_months_serious", 12)?,
            },
        })
    }
}

fn bad(variable: &str, detail: String) -> Error {
    Error::InvalidConfig {
        variable: variable.to_owned(),
        detail,
    }
}

// ----- case numbers -----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    Objection,
    Repair,
}

impl CaseKind {
    fn prefix(self) -> &'static str {
        match self {
            CaseKind::Objection => "YY",
            CaseKind::Repair => "XF",
        }
    }

    /// The index segment: `obj` or `rep`.
    fn index(self) -> &'static str {
        match self {
            CaseKind::Objection => "obj",
            CaseKind::Repair => "rep",
        }
    }

    fn sequence(self) -> &'static str {
        match self {
            CaseKind::Objection => "objection",
            CaseKind::Repair => "repair",
        }
    }

    fn label(self) -> &'static str {
        match self {
            CaseKind::Objection => "异议申诉",
            CaseKind::Repair => "信用修复申请",
        }
    }
}

/// A tracking number: "YY" (异议) or "XF" (修复) + filing date + "-" + the
/// day's sequence, e.g. "YY20261129-000001".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNo(String);

impl CaseNo {
    pub fn new(kind: CaseKind, day: NaiveDate, sequence: u64) -> CaseNo {
        CaseNo(format!(
            "{}{}-{sequence:06}",
            kind.prefix(),
            day.format("%Y%m%d")
        ))
    }

    /// Parses a number of the given kind; anything else is `INVALID_FIELD` on `no`.
    pub fn parse(kind: CaseKind, s: &str) -> Result<CaseNo, Error> {
        let no: CaseNo = s.parse()?;
        if no.kind() == kind {
            Ok(no)
        } else {
            Err(invalid_no(s, kind))
        }
    }

    pub fn kind(&self) -> CaseKind {
        if self.0.starts_with("XF") {
            CaseKind::Repair
        } else {
            CaseKind::Objection
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn invalid_no(s: &str, kind: CaseKind) -> Error {
    let example = CaseNo::new(
        kind,
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default(),
        1,
    );
    Error::InvalidField {
        field: "no".into(),
        detail: format!("案件编号“{s}”格式不正确，应形如 {example}"),
    }
}

impl std::str::FromStr for CaseNo {
    type Err = Error;
    fn from_str(s: &str) -> Result<CaseNo, Error> {
        let s = s.trim();
        let kind = if s.starts_with("XF") {
            CaseKind::Repair
        } else {
            CaseKind::Objection
        };
        let rest = s
            .strip_prefix(kind.prefix())
            .ok_or_else(|| invalid_no(s, kind))?;
        let (date, seq) = rest.split_once('-').ok_or_else(|| invalid_no(s, kind))?;
        let ok = date.len() == 8
            && date.bytes().all(|b| b.is_ascii_digit())
            && NaiveDate::parse_from_str(date, "%Y%m%d").is_ok()
            && (6..=12).contains(&seq.len())
            && seq.bytes().all(|b| b.is_ascii_digit())
            && seq.bytes().any(|b| b != b'0');
        if ok {
            Ok(CaseNo(s.to_owned()))
        } else {
            Err(invalid_no(s, kind))
        }
    }
}

impl TryFrom<String> for CaseNo {
    type Error = Error;
    fn try_from(s: String) -> Result<CaseNo, Error> {
        s.parse()
    }
}

impl From<CaseNo> for String {
    fn from(c: CaseNo) -> String {
        c.0
    }
}

impl std::fmt::Display for CaseNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

// ----- requests -----

/// The grounds of an objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// 错误
    #[serde(rename = "error")]
    Incorrect,
    /// 遗漏
    Omission,
    /// 重复
    Duplicate,
    /// 不应公示
    ShouldNotPublish,
    /// 超期公示
    OverduePublicity,
    /// 与认定机关不一致
    InconsistentWithAuthority,
}

const GROUNDS: [(Ground, &str, &str); 6] = [
    (Ground::Incorrect, "error", "错误"),
    (Ground::Omission, "omission", "遗漏"),
    (Ground::Duplicate, "duplicate", "重复"),
    (Ground::ShouldNotPublish, "should_not_publish", "不应公示"),
    (Ground::OverduePublicity, "overdue_publicity", "超期公示"),
    (
        Ground::InconsistentWithAuthority,
        "inconsistent_with_authority",
        "与认定机关不一致",
    ),
];

impl Ground {
    pub const ALL: [Ground; 6] = [
        Ground::Incorrect,
        Ground::Omission,
        Ground::Duplicate,
        Ground::ShouldNotPublish,
        Ground::OverduePublicity,
        Ground::InconsistentWithAuthority,
    ];

    pub fn label(self) -> &'static str {
        GROUNDS
            .iter()
            .find(|(g, _, _)| *g == self)
            .map(|(_, _, l)| *l)
            .unwrap_or("错误")
    }

    /// The code or the Chinese name.
    fn parse(s: &str) -> Result<Ground, Error> {
        GROUNDS
            .iter()
            .find(|(_, code, label)| *code == s || *label == s)
            .map(|(g, _, _)| *g)
            .ok_or_else(|| Error::InvalidField {
                field: "ground".into(),
                detail: format!(
                    "“{s}”不是异议事由，应为 error（错误）、omission（遗漏）、duplicate（重复）、\
                     should_not_publish（不应公示）、overdue_publicity（超期公示）或 \
                     inconsistent_with_authority（与认定机关不一致）"
                ),
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EvidenceType {
    #[serde(rename = "application/pdf")]
    Pdf,
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/jpeg")]
    Jpeg,
}

impl EvidenceType {
    pub const ALL: [EvidenceType; 3] = [EvidenceType::Pdf, EvidenceType::Png, EvidenceType::Jpeg];

    pub fn media_type(self) -> &'static str {
        match self {
            EvidenceType::Pdf => "application/pdf",
            EvidenceType::Png => "image/png",
            EvidenceType::Jpeg => "image/jpeg",
        }
    }

    /// By the file's first bytes, whatever the sender claims.
    fn sniff(bytes: &[u8]) -> Option<EvidenceType> {
        if bytes.starts_with(b"%PDF-") {
            Some(EvidenceType::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(EvidenceType::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(EvidenceType::Jpeg)
        } else {
            None
        }
    }
}

/// An evidence file: a PDF, PNG or JPEG of at most [`MAX_EVIDENCE_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub media_type: EvidenceType,
    pub bytes: Vec<u8>,
}

impl Evidence {
    /// From base64 (standard alphabet, line breaks allowed), optionally as
    /// a `data:` URL. Too large or not a PDF/PNG/JPEG is `INVALID_FIELD`
    /// on `evidence`; the size is checked before decoding.
    pub fn from_base64(text: &str) -> Result<Evidence, Error> {
        let text = text.trim();
        let payload = match text.strip_prefix("data:") {
            Some(rest) => rest
                .split_once(";base64,")
                .map(|(_, data)| data)
                .ok_or_else(|| evidence_error("data: 链接应为 base64 编码"))?,
            None => text,
        };
        let max_encoded = MAX_EVIDENCE_BYTES.div_ceil(3) * 4;
        let compact: String = payload
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .take(max_encoded + 1)
            .collect();
        if compact.len() > max_encoded {
            return Err(too_large());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| evidence_error("不是有效的 base64 编码"))?;
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(too_large());
        }
        let media_type = EvidenceType::sniff(&bytes)
            .ok_or_else(|| evidence_error("证明材料只能是 PDF、PNG 或 JPEG 文件"))?;
        Ok(Evidence { media_type, bytes })
    }
}

fn evidence_error(detail: &str) -> Error {
    Error::InvalidField {
        field: "evidence".into(),
        detail: detail.to_owned(),
    }
}

fn too_large() -> Error {
    evidence_error("证明材料超过 2 MiB 的上限，请压缩后重新上传")
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

/// A validated objection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionFiling {
    pub record_id: RecordId,
    pub ground: Ground,
    pub statement: String,
    pub evidence: Option<Evidence>,
    /// The entity, when counter staff file on its behalf.
    pub uscc: Option<CreditCode>,
}

/// A validated repair application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairApplication {
    pub record_id: RecordId,
    pub statement: String,
    pub evidence: Option<Evidence>,
    pub uscc: Option<CreditCode>,
}

/// How the department answers an accepted objection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The corrected record: same domain, kind and document number.
    Correct(Box<Record>),
    Withdraw {
        reason: String,
    },
    Uphold {
        reason: String,
    },
}

struct Body<'a>(&'a Map<String, Value>);

impl<'a> Body<'a> {
    fn of(value: &'a Value) -> Result<Body<'a>, Error> {
        value
            .as_object()
            .map(Body)
            .ok_or_else(|| Error::InvalidJson("请求体应为 JSON 对象".into()))
    }

    fn opt_text(&self, name: &str) -> Result<Option<String>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    Ok(None)
                } else if t.chars().count() > MAX_STATEMENT_CHARS {
                    Err(Error::InvalidField {
                        field: name.into(),
                        detail: format!("超过 {MAX_STATEMENT_CHARS} 字的上限"),
                    })
                } else {
                    Ok(Some(t.to_owned()))
                }
            }
            Some(_) => Err(Error::InvalidField {
                field: name.into(),
                detail: "应为字符串".into(),
            }),
        }
    }

    fn text(&self, name: &str) -> Result<String, Error> {
        self.opt_text(name)?
            .ok_or_else(|| Error::MissingField { field: name.into() })
    }

    fn record_id(&self) -> Result<RecordId, Error> {
        self.text("record_id")?
            .parse()
            .map_err(|e: Error| e.at_field("record_id"))
    }

    fn uscc(&self) -> Result<Option<CreditCode>, Error> {
        self.opt_text("uscc")?
            .map(|u| {
                u.parse::<CreditCode>()
                    .map_err(|e: crate::uscc::UsccError| e.for_field("uscc"))
            })
            .transpose()
    }

    fn evidence(&self) -> Result<Option<Evidence>, Error> {
        match self.0.get("evidence") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Evidence::from_base64(s).map(Some),
            Some(_) => Err(evidence_error("应为 base64 编码的字符串")),
        }
    }
}

impl ObjectionFiling {
    /// `{"record_id","ground","statement","evidence"?,"uscc"?}`.
    pub fn from_json(value: &Value) -> Result<ObjectionFiling, Error> {
        let body = Body::of(value)?;
        Ok(ObjectionFiling {
            record_id: body.record_id()?,
            ground: Ground::parse(&body.text("ground")?)?,
            statement: body.text("statement")?,
            evidence: body.evidence()?,
            uscc: body.uscc()?,
        })
    }
}

impl RepairApplication {
    /// `{"record_id","statement","evidence"?,"uscc"?}`.
    pub fn from_json(value: &Value) -> Result<RepairApplication, Error> {
        let body = Body::of(value)?;
        Ok(RepairApplication {
            record_id: body.record_id()?,
            statement: body.text("statement")?,
            evidence: body.evidence()?,
            uscc: body.uscc()?,
        })
    }
}

impl Resolution {
    /// `{"action":"correct","record":{…}}`, `{"action":"withdraw","reason"}`
    /// or `{"action":"uphold","reason"}`.
    pub fn from_json(value: &Value) -> Result<Resolution, Error> {
        let body = Body::of(value)?;
        match body.text("action")?.as_str() {
            "correct" => {
                let record = body.0.get("record").ok_or_else(|| Error::MissingField {
                    field: "record".into(),
                })?;
                // Field errors inside the record keep their own field names.
                Ok(Resolution::Correct(Box::new(Record::from_json(record)?)))
            }
            "withdraw" => Ok(Resolution::Withdraw {
                reason: body.text("reason")?,
            }),
            "uphold" => Ok(Resolution::Uphold {
                reason: body.text("reason")?,
            }),
            other => Err(Error::InvalidField {
                field: "action".into(),
                detail: format!(
                    "“{other}”应为 correct（更正记录）、withdraw（撤销记录）或 uphold（维持原记录）"
                ),
            }),
        }
    }
}

/// A reason from `{"reason": …}`: required for rejections, optional for approvals.
pub fn reason_from_json(value: &Value, required: bool) -> Result<Option<String>, Error> {
    let body = Body::of(value)?;
    if required {
        body.text("reason").map(Some)
    } else {
        body.opt_text("reason")
    }
}

// ----- cases -----

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

    pub const ALL: [(ObjectionStatus, &'static str); 6] = [
        (ObjectionStatus::Filed, "filed"),
        (ObjectionStatus::Accepted, "accepted"),
        (ObjectionStatus::Rejected, "rejected"),
        (ObjectionStatus::Corrected, "corrected"),
        (ObjectionStatus::Withdrawn, "withdrawn"),
        (ObjectionStatus::Upheld, "upheld"),
    ];
}

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

    pub const ALL: [(RepairStatus, &'static str); 3] = [
        (RepairStatus::Applied, "applied"),
        (RepairStatus::Approved, "approved"),
        (RepairStatus::Rejected, "rejected"),
    ];
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
    pub fn view(&self, now: DateTime<Utc>) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_else(|_| json!({}));
        if let Some(map) = v.as_object_mut() {
            map.insert("status_label".into(), json!(self.status.label()));
            map.insert("ground_label".into(), json!(self.ground.label()));
            map.insert("overdue".into(), json!(self.overdue(now)));
        }
        v
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
    pub decided_at: Option<DateTime<FixedOffset>>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub revoked_reports: Vec<ReportNo>,
}

impl Repair {
    pub fn view(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_else(|_| json!({}));
        if let Some(map) = v.as_object_mut() {
            map.insert("status_label".into(), json!(self.status.label()));
        }
        v
    }
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
            CaseKind::Objection => ObjectionStatus::ALL.iter().map(|(_, c)| *c).collect(),
            CaseKind::Repair => RepairStatus::ALL.iter().map(|(_, c)| *c).collect(),
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

    fn admits(self, open: bool, code: &str) -> bool {
        match self {
            StatusFilter::Any => true,
            StatusFilter::Open => open,
            StatusFilter::Closed => !open,
            StatusFilter::Is(c) => c == code,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseFilter {
    pub status: StatusFilter,
    /// Objections only: past a deadline.
    pub overdue_only: bool,
    /// An entity's cases: required for staff, optional for departments and admin.
    pub uscc: Option<CreditCode>,
}

// ----- the workflow -----

/// Objections and repairs over the store.
pub struct Disputes<'a, K: KeyValue + ?Sized> {
    kv: &'a K,
    store: Store<'a, K>,
    config: &'a DisputeConfig,
}

fn case_key(no: &CaseNo) -> String {
    format!("case/{no}")
}

fn not_found(no: &CaseNo) -> Error {
    Error::NotFound(format!("没有编号为 {no} 的{}", no.kind().label()))
}

fn conflict_status(no: &CaseNo, label: &str, wanted: &str) -> Error {
    Error::Conflict(format!("案件 {no} 当前状态为“{label}”，不能{wanted}"))
}

/// The entity a case is filed for: an entity files on its own records;
/// staff name the entity, which must own the record.
fn check_filer(
    who: &Principal,
    named: Option<&CreditCode>,
    record: &StoredRecord,
    kind: CaseKind,
) -> Result<(), Error> {
    let owner = record.record.uscc();
    match who {
        Principal::Entity { uscc, .. } => {
            if named.is_some_and(|n| n != uscc) || owner != uscc {
                return Err(Error::Forbidden(format!(
                    "市场主体只能对本主体的记录提出{}",
                    kind.label()
                )));
            }
            Ok(())
        }
        Principal::Staff { .. } => {
            let named = named.ok_or_else(|| Error::MissingField {
                field: "uscc".into(),
            })?;
            if named != owner {
                return Err(Error::Forbidden(format!(
                    "该记录不属于统一社会信用代码为 {named} 的主体"
                )));
            }
            Ok(())
        }
        _ => Err(Error::Forbidden(format!(
            "只有市场主体或窗口帮办人员可以提出{}",
            kind.label()
        ))),
    }
}

/// Who may read a case: its entity, staff, the unit answering for its
/// domain, the administrator.
fn may_read(who: &Principal, uscc: &CreditCode, domain: &str) -> bool {
    match who {
        Principal::Entity { .. } | Principal::Staff { .. } => who.can_read_entity(uscc),
        Principal::Department { .. } => who.department_may_write(domain),
        Principal::Admin { .. } => true,
    }
}

fn check_read(who: &Principal, uscc: &CreditCode, domain: &str) -> Result<(), Error> {
    if may_read(who, uscc, domain) {
        Ok(())
    } else {
        Err(Error::Forbidden(match who {
            Principal::Department { unit, .. } => {
                format!("{unit}不是该记录所属领域的责任单位，无权查看此案件")
            }
            _ => "只能查看本主体的案件".into(),
        }))
    }
}

/// Only the unit answering for the record's domain decides.
fn check_decider(who: &Principal, domain: &str) -> Result<(), Error> {
    match who {
        Principal::Department { .. } if who.department_may_write(domain) => Ok(()),
        Principal::Department { unit, .. } => Err(Error::Forbidden(format!(
            "{unit}不是该记录所属领域的责任单位，不能处理此案件"
        ))),
        _ => Err(Error::Forbidden(
            "只有记录所属领域的责任单位可以处理此案件".into(),
        )),
    }
}

impl<'a, K: KeyValue + ?Sized> Disputes<'a, K> {
    pub fn new(kv: &'a K, config: &'a DisputeConfig) -> Self {
        Disputes {
            kv,
            store: Store::new(kv),
            config,
        }
    }

    // ----- storage helpers -----

    /// The case numbers listed under `prefix`, skipping any that do not parse.
    fn list(&self, prefix: &str) -> Result<Vec<CaseNo>, Error> {
        Ok(self
            .store
            .list(prefix)?
            .into_iter()
            .filter_map(|no| no.parse().ok())
            .collect())
    }

    fn load<T: DeserializeOwned>(&self, no: &CaseNo) -> Result<(T, Vec<u8>), Error> {
        let key = case_key(no);
        let bytes = self.kv.get(&key)?.ok_or_else(|| not_found(no))?;
        Ok((from_json(&key, &bytes)?, bytes))
    }

    /// Applies `change` to the stored case by compare-and-swap, retrying
    /// on contention with a fresh read.
    fn update<T: Serialize + DeserializeOwned>(
        &self,
        no: &CaseNo,
        mut change: impl FnMut(&mut T) -> Result<(), Error>,
    ) -> Result<T, Error> {
        let key = case_key(no);
        for _ in 0..MAX_CAS_ATTEMPTS {
            let (mut case, bytes) = self.load::<T>(no)?;
            change(&mut case)?;
            if self
                .kv
                .compare_and_swap(&key, Some(&bytes), &to_json(&case)?)?
            {
                return Ok(case);
            }
        }
        Err(contention(&key))
    }

    fn next_no(&self, kind: CaseKind, now: DateTime<Utc>) -> Result<CaseNo, Error> {
        let day = china_date(now);
        let seq = self.kv.increment(
            &format!("seq/{}/{}", kind.sequence(), day.format("%Y%m%d")),
            1,
        )?;
        Ok(CaseNo::new(kind, day, seq.max(1) as u64))
    }

    fn is_open(&self, no: &CaseNo) -> Result<bool, Error> {
        let key = case_key(no);
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
        let key = format!("rec/{id}/case");
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

    fn store_evidence(&self, no: &CaseNo, evidence: &Evidence) -> Result<EvidenceInfo, Error> {
        let chunks: Vec<&[u8]> = evidence.bytes.chunks(EVIDENCE_CHUNK).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            self.kv.set(&format!("case/{no}/evidence/{i}"), chunk)?;
        }
        Ok(EvidenceInfo {
            media_type: evidence.media_type,
            size: evidence.bytes.len() as u64,
            sha256: hex(&Sha256::digest(&evidence.bytes)),
            chunks: chunks.len() as u32,
        })
    }

    /// Writes a new case and its three index entries.
    fn create<T: Serialize>(
        &self,
        no: &CaseNo,
        uscc: &CreditCode,
        domain: &str,
        case: &T,
    ) -> Result<(), Error> {
        if !self
            .kv
            .compare_and_swap(&case_key(no), None, &to_json(case)?)?
        {
            return Err(Error::Internal(format!("case number {no} already taken")));
        }
        let index = no.kind().index();
        self.store
            .append(&format!("ent/{uscc}/{index}"), no.as_str())?;
        self.store
            .append(&format!("dom/{domain}/{index}"), no.as_str())?;
        self.store.append(&format!("all/{index}"), no.as_str())?;
        Ok(())
    }

    fn record(&self, id: &RecordId) -> Result<StoredRecord, Error> {
        self.store
            .get_record(id)?
            .ok_or_else(|| Error::NotFound(format!("没有编号为 {id} 的记录")))
    }

    /// Puts a record under objection back to active; any other status
    /// (e.g. withdrawn meanwhile) is left alone.
    fn release_record(
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

    /// The case numbers a principal's listing reads: the entity's own
    /// index, the indexes of a department's domains, or everything.
    fn visible(
        &self,
        who: &Principal,
        kind: CaseKind,
        uscc: Option<&CreditCode>,
    ) -> Result<Vec<CaseNo>, Error> {
        let index = kind.index();
        let entity = |u: &CreditCode| self.list(&format!("ent/{u}/{index}"));
        match who {
            Principal::Entity { uscc: own, .. } => match uscc {
                Some(u) if u != own => Err(Error::Forbidden("只能查看本主体的案件".into())),
                _ => entity(own),
            },
            Principal::Staff { .. } => entity(uscc.ok_or_else(|| Error::MissingField {
                field: "uscc".into(),
            })?),
            Principal::Department { unit, .. } => {
                let mut out = Vec::new();
                for domain in catalog().data_domains_of_unit(unit) {
                    out.extend(self.list(&format!("dom/{}/{index}", domain.code))?);
                }
                Ok(out)
            }
            Principal::Admin { .. } => match uscc {
                Some(u) => entity(u),
                None => self.list(&format!("all/{index}")),
            },
        }
    }

    fn load_many<T: DeserializeOwned>(&self, nos: &[CaseNo]) -> Result<Vec<T>, Error> {
        let keys: Vec<String> = nos.iter().map(case_key).collect();
        self.store.get_many_json(&keys)
    }

    /// The evidence file of a case, for those who may read the case.
    pub fn evidence(&self, who: &Principal, no: &CaseNo) -> Result<Evidence, Error> {
        let (head, _) = self.load::<CaseHead>(no)?;
        check_read(who, &head.uscc, &head.domain)?;
        let info = head
            .evidence
            .ok_or_else(|| Error::NotFound(format!("案件 {no} 没有上传证明材料")))?;
        let keys: Vec<String> = (0..info.chunks)
            .map(|i| format!("case/{no}/evidence/{i}"))
            .collect();
        let mut bytes = Vec::with_capacity(info.size as usize);
        for part in self.kv.get_many(&keys)? {
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

    // ----- objections -----

    /// Files an objection: the record goes under objection (异议处理中)
    /// until the case is closed. One open case per record.
    pub fn file_objection(
        &self,
        who: &Principal,
        filing: ObjectionFiling,
        now: DateTime<Utc>,
    ) -> Result<Objection, Error> {
        let record = self.record(&filing.record_id)?;
        check_filer(who, filing.uscc.as_ref(), &record, CaseKind::Objection)?;
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
        let no = self.next_no(CaseKind::Objection, now)?;
        self.claim_record(&record.id, &no)?;
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
            evidence: filing
                .evidence
                .as_ref()
                .map(|e| self.store_evidence(&no, e))
                .transpose()?,
            filed_at,
            filed_by: who.audit_name(),
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
        self.create(&no, &case.uscc, &case.domain, &case)?;
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
        let (case, _) = self.load::<Objection>(no)?;
        check_read(who, &case.uscc, &case.domain)?;
        Ok(case)
    }

    /// The objections a principal may see, newest first.
    pub fn list_objections(
        &self,
        who: &Principal,
        filter: &CaseFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<Objection>, Error> {
        let nos = self.visible(who, CaseKind::Objection, filter.uscc.as_ref())?;
        let mut cases: Vec<Objection> = self.load_many(&nos)?;
        cases.retain(|c| {
            may_read(who, &c.uscc, &c.domain)
                && filter.uscc.as_ref().is_none_or(|u| *u == c.uscc)
                && filter
                    .status
                    .admits(c.status.is_open(), status_code(c.status))
                && (!filter.overdue_only || c.overdue(now))
        });
        cases.sort_by(|a, b| b.filed_at.cmp(&a.filed_at).then(b.no.cmp(&a.no)));
        cases.dedup_by(|a, b| a.no == b.no);
        Ok(cases)
    }

    /// Accepts a filed objection; the answer is due `answer_working_days`
    /// from now.
    pub fn accept_objection(
        &self,
        who: &Principal,
        no: &CaseNo,
        now: DateTime<Utc>,
    ) -> Result<Objection, Error> {
        let (case, _) = self.load::<Objection>(no)?;
        check_decider(who, &case.domain)?;
        let at = in_china(now);
        self.update(no, |c: &mut Objection| {
            if c.status != ObjectionStatus::Filed {
                return Err(conflict_status(no, c.status.label(), "受理"));
            }
            c.status = ObjectionStatus::Accepted;
            c.accepted_at = Some(at);
            c.accepted_by = Some(who.audit_name());
            c.answer_by = Some(
                self.config
                    .calendar
                    .add_working_days(at, self.config.answer_working_days),
            );
            Ok(())
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
        let (case, _) = self.load::<Objection>(no)?;
        check_decider(who, &case.domain)?;
        let case = self.update(no, |c: &mut Objection| {
            if c.status != ObjectionStatus::Filed {
                return Err(conflict_status(no, c.status.label(), "作出不予受理决定"));
            }
            c.status = ObjectionStatus::Rejected;
            c.decided_at = Some(in_china(now));
            c.decided_by = Some(who.audit_name());
            c.decision_reason = Some(reason.to_owned());
            Ok(())
        })?;
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
        let (case, _) = self.load::<Objection>(no)?;
        check_decider(who, &case.domain)?;
        if case.status != ObjectionStatus::Accepted {
            let wanted = if case.status == ObjectionStatus::Filed {
                "作出处理决定：请先受理"
            } else {
                "再次处理"
            };
            return Err(conflict_status(no, case.status.label(), wanted));
        }
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
                let upserted = self.store.upsert_record(*record, &actor, now)?;
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
        self.update(no, |c: &mut Objection| {
            if c.status != ObjectionStatus::Accepted {
                return Err(conflict_status(no, c.status.label(), "再次处理"));
            }
            c.status = status;
            c.decided_at = Some(in_china(now));
            c.decided_by = Some(actor.clone());
            c.decision_reason = Some(reason.clone());
            c.revoked_reports = revoked.clone();
            Ok(())
        })
    }

    // ----- repairs -----

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
        let record = self.record(&application.record_id)?;
        check_filer(who, application.uscc.as_ref(), &record, CaseKind::Repair)?;
        let Record::Penalty(penalty) = &record.record else {
            return Err(Error::InvalidField {
                field: "record_id".into(),
                detail: "只有行政处罚记录可以申请信用修复；名单的移出请向认定部门申请".into(),
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
        let no = self.next_no(CaseKind::Repair, now)?;
        self.claim_record(&record.id, &no)?;
        let common = &penalty.common;
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
            evidence: application
                .evidence
                .as_ref()
                .map(|e| self.store_evidence(&no, e))
                .transpose()?,
            applied_at: in_china(now),
            applied_by: who.audit_name(),
            decided_at: None,
            decided_by: None,
            decision_reason: None,
            revoked_reports: vec![],
        };
        self.create(&no, &case.uscc, &case.domain, &case)?;
        Ok(case)
    }

    pub fn repair(&self, who: &Principal, no: &CaseNo) -> Result<Repair, Error> {
        let (case, _) = self.load::<Repair>(no)?;
        check_read(who, &case.uscc, &case.domain)?;
        Ok(case)
    }

    pub fn list_repairs(&self, who: &Principal, filter: &CaseFilter) -> Result<Vec<Repair>, Error> {
        let nos = self.visible(who, CaseKind::Repair, filter.uscc.as_ref())?;
        let mut cases: Vec<Repair> = self.load_many(&nos)?;
        cases.retain(|c| {
            may_read(who, &c.uscc, &c.domain)
                && filter.uscc.as_ref().is_none_or(|u| *u == c.uscc)
                && filter
                    .status
                    .admits(c.status.is_open(), repair_code(c.status))
        });
        cases.sort_by(|a, b| b.applied_at.cmp(&a.applied_at).then(b.no.cmp(&a.no)));
        cases.dedup_by(|a, b| a.no == b.no);
        Ok(cases)
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
        let (case, _) = self.load::<Repair>(no)?;
        check_decider(who, &case.domain)?;
        if case.status != RepairStatus::Applied {
            return Err(conflict_status(no, case.status.label(), "审核"));
        }
        let record = self.record(&case.record_id)?;
        if record.status != RecordStatus::Active {
            return Err(Error::Conflict(format!(
                "记录当前状态为“{}”，不能修复",
                record.status.label().unwrap_or("正常")
            )));
        }
        let reason = reason.unwrap_or_else(|| format!("信用修复申请 {no} 经审核通过"));
        let actor = who.audit_name();
        let changed = self.store.set_record_status(
            &case.record_id,
            RecordStatus::Repaired,
            &reason,
            &actor,
            now,
        )?;
        self.update(no, |c: &mut Repair| {
            if c.status != RepairStatus::Applied {
                return Err(conflict_status(no, c.status.label(), "审核"));
            }
            c.status = RepairStatus::Approved;
            c.decided_at = Some(in_china(now));
            c.decided_by = Some(actor.clone());
            c.decision_reason = Some(reason.clone());
            c.revoked_reports = changed.revoked.clone();
            Ok(())
        })
    }

    pub fn reject_repair(
        &self,
        who: &Principal,
        no: &CaseNo,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Repair, Error> {
        let (case, _) = self.load::<Repair>(no)?;
        check_decider(who, &case.domain)?;
        self.update(no, |c: &mut Repair| {
            if c.status != RepairStatus::Applied {
                return Err(conflict_status(no, c.status.label(), "审核"));
            }
            c.status = RepairStatus::Rejected;
            c.decided_at = Some(in_china(now));
            c.decided_by = Some(who.audit_name());
            c.decision_reason = Some(reason.to_owned());
            Ok(())
        })
    }
}

fn status_code(status: ObjectionStatus) -> &'static str {
    ObjectionStatus::ALL
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, c)| *c)
        .unwrap_or("filed")
}

fn repair_code(status: RepairStatus) -> &'static str {
    RepairStatus::ALL
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, c)| *c)
        .unwrap_or("applied")
}

#[cfg(test)]
#[path = "dispute_tests.rs"]
mod tests;
