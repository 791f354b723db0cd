//! The JSON parser of submitted records: required fields, formats and the
//! catalog's domain scope, each error naming its field.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::model::{Common, ListEntry, Penalty, Record};
use crate::catalog::catalog;
use crate::error::Error;
use crate::money::WanYuan;
use crate::uscc::CreditCode;
use crate::vocabulary::{PenaltyCategory, Procedure, RecordKind, Severity};

/// Longest accepted text field, in characters: keeps a stored record far
/// below the store's 1 MB value limit.
pub const MAX_TEXT_CHARS: usize = 4000;

impl Record {
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
                .list_entry(common, Some(RecordKind::AbnormalList.label()))
                .map(Record::AbnormalList),
        }
    }
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
        let procedure_text = self.text("procedure")?;
        let procedure = Procedure::parse(&procedure_text).ok_or_else(|| {
            invalid(
                "procedure",
                format!("“{procedure_text}”应为 general（普通程序）或 simplified（简易程序）"),
            )
        })?;
        let severity = self
            .opt_text("severity")?
            .map(|text| {
                Severity::parse(&text).ok_or_else(|| {
                    invalid(
                        "severity",
                        format!("“{text}”应为 minor、general 或 serious"),
                    )
                })
            })
            .transpose()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::samples::*;
    use crate::vocabulary::PenaltyCategory;
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
