//! Records as departments submit them: administrative penalties (行政处罚),
//! serious-dishonesty list entries (严重失信主体名单) and abnormal-operation
//! list entries (经营异常名录), with the 双公示 fields of the policy README.
//!
//! [`Record::from_json`] is the only way in from outside: it enforces
//! required fields and returns a field-level [`Error`] naming the field.
//! The identity of a record is (domain, kind, document_no); [`RecordId`] is
//! derived from it, so a replay finds the same record.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::catalog::catalog;
use crate::codes::hex;
use crate::error::Error;
use crate::money::WanYuan;
use crate::uscc::CreditCode;

/// Longest accepted text field, in characters: keeps a stored record far
/// below the store's 1 MB value limit.
pub const MAX_TEXT_CHARS: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Penalty,
    DishonestList,
    AbnormalList,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Penalty => "penalty",
            RecordKind::DishonestList => "dishonest_list",
            RecordKind::AbnormalList => "abnormal_list",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RecordKind::Penalty => "行政处罚",
            RecordKind::DishonestList => "严重失信主体名单",
            RecordKind::AbnormalList => "经营异常名录",
        }
    }

    fn parse(s: &str) -> Option<RecordKind> {
        [
            RecordKind::Penalty,
            RecordKind::DishonestList,
            RecordKind::AbnormalList,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

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

/// 简易程序 or 普通程序.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Procedure {
    General,
    Simplified,
}

/// Severity as the credit-repair rules grade it (轻微 / 一般 / 严重).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    General,
    Serious,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Minor => "轻微",
            Severity::General => "一般",
            Severity::Serious => "严重",
        }
    }
}

/// The kinds of penalty of 行政处罚法 第九条. Input accepts the code or the
/// Chinese name; output is the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PenaltyCategory {
    Warning,
    PublicCriticism,
    Fine,
    ConfiscateIllegalGains,
    ConfiscateIllegalProperty,
    SuspendLicense,
    LowerQualification,
    RevokeLicense,
    RestrictBusiness,
    SuspendProduction,
    OrderClosure,
    RestrictEmployment,
    AdministrativeDetention,
    Other,
}

const PENALTY_CATEGORIES: [(PenaltyCategory, &str, &str); 14] = [
    (PenaltyCategory::Warning, "warning", "警告"),
    (
        PenaltyCategory::PublicCriticism,
        "public_criticism",
        "通报批评",
    ),
    (PenaltyCategory::Fine, "fine", "罚款"),
    (
        PenaltyCategory::ConfiscateIllegalGains,
        "confiscate_illegal_gains",
        "没收违法所得",
    ),
    (
        PenaltyCategory::ConfiscateIllegalProperty,
        "confiscate_illegal_property",
        "没收非法财物",
    ),
    (
        PenaltyCategory::SuspendLicense,
        "suspend_license",
        "暂扣许可证件",
    ),
    (
        PenaltyCategory::LowerQualification,
        "lower_qualification",
        "降低资质等级",
    ),
    (
        PenaltyCategory::RevokeLicense,
        "revoke_license",
        "吊销许可证件",
    ),
    (
        PenaltyCategory::RestrictBusiness,
        "restrict_business",
        "限制开展生产经营活动",
    ),
    (
        PenaltyCategory::SuspendProduction,
        "suspend_production",
        "责令停产停业",
    ),
    (PenaltyCategory::OrderClosure, "order_closure", "责令关闭"),
    (
        PenaltyCategory::RestrictEmployment,
        "restrict_employment",
        "限制从业",
    ),
    (
        PenaltyCategory::AdministrativeDetention,
        "administrative_detention",
        "行政拘留",
    ),
    (PenaltyCategory::Other, "other", "其他"),
];

impl PenaltyCategory {
    pub fn label(self) -> &'static str {
        PENALTY_CATEGORIES
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, _, l)| *l)
            .unwrap_or("其他")
    }

    fn parse(s: &str) -> Option<PenaltyCategory> {
        let s = s.trim();
        PENALTY_CATEGORIES
            .iter()
            .find(|(_, code, label)| *code == s || *label == s)
            .map(|(c, _, _)| *c)
    }
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

/// A validated record. Serializes flat with a `kind` tag, as docs/api.md names
/// the fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Penalty(Penalty),
    DishonestList(ListEntry),
    AbnormalList(ListEntry),
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
        }
    }

    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Penalty(_) => RecordKind::Penalty,
            Record::DishonestList(_) => RecordKind::DishonestList,
            Record::AbnormalList(_) => RecordKind::AbnormalList,
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

    /// Parses and validates one submitted item.
    pub fn from_json(value: &Value) -> Result<Record, Error> {
        let map = value.as_object().ok_or_else(|| Error::InvalidField {
            field: "kind".into(),
            detail: "每条记录应为一个 JSON 对象".into(),
        })?;
        let f = Fields(map);
        let kind_text = f.text("kind")?;
        let kind = RecordKind::parse(&kind_text).ok_or_else(|| Error::InvalidField {
            field: "kind".into(),
            detail: format!(
                "“{kind_text}”不是记录类型，应为 penalty、dishonest_list 或 abnormal_list"
            ),
        })?;
        let common = f.common(kind)?;
        match kind {
            RecordKind::Penalty => f.penalty(common).map(Record::Penalty),
            RecordKind::DishonestList => f.list_entry(common, None).map(Record::DishonestList),
            RecordKind::AbnormalList => f
                .list_entry(common, Some("经营异常名录"))
                .map(Record::AbnormalList),
        }
    }

    /// The record's fields in print order, with Chinese labels.
    pub fn print_fields(&self) -> Vec<(String, String)> {
        let c = self.common();
        let mut out: Vec<(&str, String)> = Vec::new();
        let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        match self {
            Record::Penalty(p) => {
                out.push(("行政相对人名称", c.entity_name.clone()));
                out.push(("统一社会信用代码", c.uscc.to_string()));
                out.push(("行政处罚决定书文号", c.document_no.clone()));
                out.push(("违法行为类型", p.violation_type.clone()));
                out.push(("违法事实", p.facts.clone()));
                out.push(("处罚依据", p.legal_basis.clone()));
                let cats: Vec<&str> = p.penalty_categories.iter().map(|c| c.label()).collect();
                out.push(("处罚类别", cats.join("、")));
                out.push(("处罚内容", p.penalty_content.clone()));
                if let Some(m) = p.fine_wan_yuan {
                    out.push(("罚款金额", m.display_with_unit()));
                }
                if let Some(m) = p.confiscated_wan_yuan {
                    out.push(("没收违法所得、没收非法财物的金额", m.display_with_unit()));
                }
                if let Some(l) = &p.license_action {
                    out.push(("暂扣或吊销证照名称及编号", l.clone()));
                }
                out.push(("处罚决定日期", date(p.decided_on)));
                out.push(("处罚有效期", date(p.penalty_valid_until)));
                if let Some(d) = p.publicity_until {
                    out.push(("公示截止期", date(d)));
                }
                out.push(("处罚机关", c.authority.clone()));
            }
            Record::DishonestList(l) | Record::AbnormalList(l) => {
                out.push(("主体名称", c.entity_name.clone()));
                out.push(("统一社会信用代码", c.uscc.to_string()));
                out.push(("名单名称", l.list_name.clone()));
                out.push(("文书号", c.document_no.clone()));
                out.push(("列入原因", l.reason.clone()));
                if let Some(b) = &l.basis {
                    out.push(("认定依据", b.clone()));
                }
                out.push(("认定部门", c.authority.clone()));
                out.push(("列入日期", date(l.listed_on)));
                out.push((
                    "移出日期",
                    l.removed_on.map(date).unwrap_or_else(|| "未移出".into()),
                ));
                if let Some(r) = &l.removal_reason {
                    out.push(("移出原因", r.clone()));
                }
            }
        }
        out.push(("数据来源单位", c.source_unit.clone()));
        if let Some(n) = &c.note {
            out.push(("备注", n.clone()));
        }
        out.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

/// Where a record stands. Withdrawn and repaired records stay stored (and
/// audited) but stop counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Active,
    /// 异议处理中: still counts, printed with the label.
    UnderObjection,
    /// 已修复: omitted, or printed labelled under `show_repaired_records`.
    Repaired,
    /// Annulled or withdrawn by the department: never counts.
    Withdrawn,
}

impl RecordStatus {
    pub fn label(self) -> Option<&'static str> {
        match self {
            RecordStatus::Active => None,
            RecordStatus::UnderObjection => Some("异议处理中"),
            RecordStatus::Repaired => Some("已修复"),
            RecordStatus::Withdrawn => Some("已撤销"),
        }
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

/// Typed access to the submitted object, each error naming its field.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn present(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn opt_text(&self, name: &str) -> Result<Option<String>, Error> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    Ok(None)
                } else if t.chars().count() > MAX_TEXT_CHARS {
                    Err(invalid(name, format!("超过 {MAX_TEXT_CHARS} 字的上限")))
                } else {
                    Ok(Some(t.to_owned()))
                }
            }
            Some(_) => Err(invalid(name, "应为字符串".into())),
        }
    }

    fn text(&self, name: &str) -> Result<String, Error> {
        self.opt_text(name)?.ok_or_else(|| Error::MissingField {
            field: name.to_owned(),
        })
    }

    fn uscc(&self, name: &str) -> Result<CreditCode, Error> {
        self.text(name)?
            .parse()
            .map_err(|e: crate::uscc::UsccError| e.for_field(name))
    }

    fn opt_date(&self, name: &str) -> Result<Option<NaiveDate>, Error> {
        match self.opt_text(name)? {
            None => Ok(None),
            Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .ok()
                .filter(|_| s.len() == 10)
                .map(Some)
                .ok_or_else(|| invalid(name, format!("日期应为 YYYY-MM-DD，收到“{s}”"))),
        }
    }

    fn date(&self, name: &str) -> Result<NaiveDate, Error> {
        self.opt_date(name)?.ok_or_else(|| Error::MissingField {
            field: name.to_owned(),
        })
    }

    fn money(&self, name: &str) -> Result<Option<WanYuan>, Error> {
        let text = match self.present(name) {
            None => return Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                return Err(invalid(
                    name,
                    "金额应为十进制数字字符串，如 \"1.5\"（单位：万元）".into(),
                ));
            }
        };
        text.parse::<WanYuan>()
            .map(Some)
            .map_err(|d| invalid(name, d))
    }

    fn bool_or_false(&self, name: &str) -> Result<bool, Error> {
        match self.present(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(invalid(name, "应为 true 或 false".into())),
        }
    }

    fn common(&self, kind: RecordKind) -> Result<Common, Error> {
        let domain = self.text("domain")?;
        let data_domain = catalog()
            .data_domain(&domain)
            .ok_or_else(|| Error::UnknownDomain {
                field: "domain".into(),
                code: domain.clone(),
            })?;
        if !data_domain.scope.contains(&kind) {
            return Err(invalid(
                "kind",
                format!(
                    "{}领域不归集{}（数据范围见目录）",
                    data_domain.name,
                    kind.label()
                ),
            ));
        }
        Ok(Common {
            domain,
            document_no: self.text("document_no")?,
            entity_name: self.text("entity_name")?,
            uscc: self.uscc("uscc")?,
            authority: self.text("authority")?,
            authority_uscc: self.uscc("authority_uscc")?,
            source_unit: self.text("source_unit")?,
            source_unit_uscc: self.uscc("source_unit_uscc")?,
            note: self.opt_text("note")?,
        })
    }

    fn penalty(&self, common: Common) -> Result<Penalty, Error> {
        let categories = match self.present("penalty_categories") {
            None => {
                return Err(Error::MissingField {
                    field: "penalty_categories".into(),
                });
            }
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|v| {
                    v.as_str().and_then(PenaltyCategory::parse).ok_or_else(|| {
                        invalid(
                            "penalty_categories",
                            format!("{v} 不是行政处罚法第九条规定的处罚种类"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(invalid(
                    "penalty_categories",
                    "应为非空数组，如 [\"罚款\"]".into(),
                ));
            }
        };
        let procedure = match self.text("procedure")?.as_str() {
            "general" => Procedure::General,
            "simplified" => Procedure::Simplified,
            other => {
                return Err(invalid(
                    "procedure",
                    format!("“{other}”应为 general（普通程序）或 simplified（简易程序）"),
                ));
            }
        };
        let severity = match self.opt_text("severity")?.as_deref() {
            None => None,
            Some("minor") => Some(Severity::Minor),
            Some("general") => Some(Severity::General),
            Some("serious") => Some(Severity::Serious),
            Some(other) => {
                return Err(invalid(
                    "severity",
                    format!("“{other}”应为 minor、general 或 serious"),
                ));
            }
        };
        let decided_on = self.date("decided_on")?;
        let penalty_valid_until = self.date("penalty_valid_until")?;
        if penalty_valid_until < decided_on {
            return Err(invalid(
                "penalty_valid_until",
                "处罚有效期不能早于处罚决定日期".into(),
            ));
        }
        let publicity_until = self.opt_date("publicity_until")?;
        if publicity_until.is_some_and(|p| p < decided_on) {
            return Err(invalid(
                "publicity_until",
                "公示截止期不能早于处罚决定日期".into(),
            ));
        }
        Ok(Penalty {
            common,
            entity_category: self.text("entity_category")?,
            legal_representative: self.opt_text("legal_representative")?,
            violation_type: self.text("violation_type")?,
            facts: self.text("facts")?,
            legal_basis: self.text("legal_basis")?,
            penalty_categories: categories,
            penalty_content: self.text("penalty_content")?,
            fine_wan_yuan: self.money("fine_wan_yuan")?,
            confiscated_wan_yuan: self.money("confiscated_wan_yuan")?,
            license_action: self.opt_text("license_action")?,
            decided_on,
            penalty_valid_until,
            publicity_until,
            procedure,
            not_penalized: self.bool_or_false("not_penalized")?,
            severity,
        })
    }

    fn list_entry(&self, common: Common, default_list: Option<&str>) -> Result<ListEntry, Error> {
        let list_name = match (self.opt_text("list_name")?, default_list) {
            (Some(n), _) => n,
            (None, Some(d)) => d.to_owned(),
            (None, None) => {
                return Err(Error::MissingField {
                    field: "list_name".into(),
                });
            }
        };
        let listed_on = self.date("listed_on")?;
        let removed_on = self.opt_date("removed_on")?;
        if removed_on.is_some_and(|r| r < listed_on) {
            return Err(invalid("removed_on", "移出日期不能早于列入日期".into()));
        }
        Ok(ListEntry {
            common,
            list_name,
            reason: self.text("reason")?,
            basis: self.opt_text("basis")?,
            listed_on,
            removed_on,
            removal_reason: self.opt_text("removal_reason")?,
            removal_authority: self.opt_text("removal_authority")?,
        })
    }
}

fn invalid(field: &str, detail: String) -> Error {
    Error::InvalidField {
        field: field.to_owned(),
        detail,
    }
}

/// Sample records for tests across the crate.
#[cfg(test)]
pub(crate) mod samples {
    use serde_json::{Value, json};

    pub const ENTITY: &str = "91350200776049653A";
    pub const OTHER_ENTITY: &str = "91440101MA5CJQ4N59";
    pub const AUTHORITY: &str = "9135021359498494XQ";

    pub fn penalty(document_no: &str, decided_on: &str) -> Value {
        json!({
            "kind": "penalty", "domain": "tax", "document_no": document_no,
            "entity_name": "永昌县示例商贸有限公司", "uscc": ENTITY,
            "authority": "国家税务总局永昌县税务局", "authority_uscc": AUTHORITY,
            "source_unit": "县税务局", "source_unit_uscc": AUTHORITY,
            "entity_category": "法人及非法人组织", "legal_representative": "张三",
            "violation_type": "未按期申报", "facts": "未按规定期限办理纳税申报",
            "legal_basis": "《中华人民共和国税收征收管理法》第六十二条",
            "penalty_categories": ["罚款"], "penalty_content": "罚款0.2万元",
            "fine_wan_yuan": "0.2", "decided_on": decided_on, "penalty_valid_until": "2030-12-31",
            "procedure": "general", "not_penalized": false, "severity": "general"
        })
    }

    pub fn listing(document_no: &str, listed_on: &str, removed_on: Option<&str>) -> Value {
        json!({
            "kind": "abnormal_list", "domain": "market_regulation", "document_no": document_no,
            "entity_name": "永昌县示例商贸有限公司", "uscc": ENTITY,
            "authority": "永昌县市场监督管理局", "authority_uscc": AUTHORITY,
            "source_unit": "县市场监管局", "source_unit_uscc": AUTHORITY,
            "reason": "未按规定报送年度报告", "listed_on": listed_on, "removed_on": removed_on
        })
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_penalty_and_round_trips_through_serde() {
        let r = Record::from_json(&penalty("永税罚〔2026〕1号", "2026-03-01")).unwrap();
        let Record::Penalty(p) = &r else {
            panic!("not a penalty")
        };
        assert_eq!(p.penalty_categories, [PenaltyCategory::Fine]);
        assert_eq!(p.fine_wan_yuan.unwrap().to_string(), "0.2");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["kind"], "penalty");
        assert_eq!(v["penalty_categories"], json!(["fine"]));
        assert_eq!(v["fine_wan_yuan"], "0.2");
        assert_eq!(Record::from_json(&v).unwrap(), r);
        assert_eq!(serde_json::from_value::<Record>(v).unwrap(), r);
    }

    #[test]
    fn list_entries_keep_null_removed_on() {
        let r = Record::from_json(&listing("永市监异〔2025〕9号", "2025-01-02", None)).unwrap();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["removed_on"], Value::Null);
        assert_eq!(v["list_name"], "经营异常名录");
    }

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

    fn error_of(v: Value) -> Error {
        Record::from_json(&v).unwrap_err()
    }

    #[test]
    fn required_fields_are_named() {
        for field in [
            "kind",
            "domain",
            "document_no",
            "entity_name",
            "uscc",
            "authority",
            "authority_uscc",
            "source_unit",
            "source_unit_uscc",
            "entity_category",
            "violation_type",
            "facts",
            "legal_basis",
            "penalty_categories",
            "penalty_content",
            "decided_on",
            "penalty_valid_until",
            "procedure",
        ] {
            let mut v = penalty("X", "2026-01-01");
            v.as_object_mut().unwrap().remove(field);
            let e = error_of(v);
            assert_eq!(
                (e.code(), e.field()),
                ("MISSING_FIELD", Some(field)),
                "{field}"
            );
        }
        let mut blank = penalty("X", "2026-01-01");
        blank["facts"] = json!("   ");
        assert_eq!(error_of(blank).field(), Some("facts"));
    }

    #[test]
    fn invalid_values_are_rejected_naming_the_field() {
        let cases: Vec<(&str, Value, &str, &str)> = vec![
            (
                "authority_uscc",
                json!("91350200776049653B"),
                "INVALID_USCC",
                "authority_uscc",
            ),
            ("uscc", json!("123"), "INVALID_USCC", "uscc"),
            ("domain", json!("nope"), "UNKNOWN_DOMAIN", "domain"),
            ("kind", json!("fine"), "INVALID_FIELD", "kind"),
            (
                "decided_on",
                json!("2026/01/01"),
                "INVALID_FIELD",
                "decided_on",
            ),
            (
                "fine_wan_yuan",
                json!("-3"),
                "INVALID_FIELD",
                "fine_wan_yuan",
            ),
            (
                "penalty_categories",
                json!(["打板子"]),
                "INVALID_FIELD",
                "penalty_categories",
            ),
            (
                "penalty_categories",
                json!([]),
                "INVALID_FIELD",
                "penalty_categories",
            ),
            ("procedure", json!("fast"), "INVALID_FIELD", "procedure"),
            ("severity", json!("huge"), "INVALID_FIELD", "severity"),
            (
                "not_penalized",
                json!("yes"),
                "INVALID_FIELD",
                "not_penalized",
            ),
            ("facts", json!(42), "INVALID_FIELD", "facts"),
            (
                "facts",
                json!("字".repeat(MAX_TEXT_CHARS + 1)),
                "INVALID_FIELD",
                "facts",
            ),
            (
                "penalty_valid_until",
                json!("2020-01-01"),
                "INVALID_FIELD",
                "penalty_valid_until",
            ),
        ];
        for (field, value, code, named) in cases {
            let mut v = penalty("X", "2026-01-01");
            v[field] = value;
            let e = error_of(v);
            assert_eq!((e.code(), e.field()), (code, Some(named)), "{field}");
        }
        assert_eq!(error_of(json!([1])).field(), Some("kind"));
    }

    #[test]
    fn kinds_must_fit_the_domain_scope() {
        let mut v = listing("L", "2025-01-01", None);
        v["domain"] = json!("tax");
        assert_eq!(error_of(v).field(), Some("kind"));
        let mut d = listing("L", "2025-01-01", None);
        d["kind"] = json!("dishonest_list");
        assert_eq!(error_of(d.clone()).field(), Some("list_name"));
        d["list_name"] = json!("市场监督管理严重违法失信名单");
        assert!(Record::from_json(&d).is_ok());
        let backwards = listing("L", "2025-01-02", Some("2025-01-01"));
        assert_eq!(error_of(backwards).field(), Some("removed_on"));
    }

    #[test]
    fn amounts_are_uncapped_and_accept_numbers() {
        let mut v = penalty("X", "2026-01-01");
        v["fine_wan_yuan"] = json!("98765432109876.54321");
        v["confiscated_wan_yuan"] = json!(12.5);
        let Record::Penalty(p) = Record::from_json(&v).unwrap() else {
            panic!()
        };
        assert_eq!(p.fine_wan_yuan.unwrap().to_string(), "98765432109876.54321");
        assert_eq!(p.confiscated_wan_yuan.unwrap().to_string(), "12.5");
    }
}
