//! The parser of submitted records, JSON or a CSV row made into a JSON
//! object: what the kind's field table requires, formats, the catalog's
//! domain scope and the data-quality checks. It reports every problem of an
//! item at once, each naming its field, and returns warnings with a record
//! it accepts.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::{Map, Value};

use super::fields::{FieldSpec, KindSpec, kind_spec};
use super::model::{CoerciveMeasure, Common, CriminalJudgment, ListEntry, Penalty, Record};
use crate::catalog::catalog;
use crate::error::Error;
use crate::money::WanYuan;
use crate::text::{first_forbidden_in_record_text, quoted_char};
use crate::uscc::CreditCode;
use crate::vocabulary::{CoerciveMeasureType, PenaltyCategory, Procedure, RecordKind, Severity};
use crate::window::DATA_START;

/// Longest accepted text field, in characters: keeps a stored record far
/// below the store's 1 MB value limit.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Something worth the unit's attention that does not stop the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub field: String,
    pub detail: String,
}

impl Warning {
    /// A field the kind does not have: kept out of the record, said so.
    pub const UNKNOWN_FIELD: &'static str = "UNKNOWN_FIELD";
    /// An amount without the category it belongs to.
    pub const AMOUNT_WITHOUT_CATEGORY: &'static str = "AMOUNT_WITHOUT_CATEGORY";
    /// The credit code is on file under another entity name.
    pub const ENTITY_NAME_DIFFERS: &'static str = "ENTITY_NAME_DIFFERS";
    pub const CODES: [&'static str; 3] = [
        Warning::UNKNOWN_FIELD,
        Warning::AMOUNT_WITHOUT_CATEGORY,
        Warning::ENTITY_NAME_DIFFERS,
    ];

    pub fn new(code: &'static str, field: &str, detail: String) -> Warning {
        Warning {
            code,
            field: field.to_owned(),
            detail,
        }
    }
}

/// An accepted item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub record: Record,
    pub warnings: Vec<Warning>,
}

/// A rejected item: every problem found, in the order of the kind's fields,
/// and the warnings that would have come with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub problems: Vec<Error>,
    pub warnings: Vec<Warning>,
}

impl Rejected {
    fn one(problem: Error) -> Rejected {
        Rejected {
            problems: vec![problem],
            warnings: Vec::new(),
        }
    }
}

impl Record {
    /// Parses and checks one submitted item. `today` (the caller's date)
    /// enables the date-range checks: nothing decided after today, nor
    /// before the collection start.
    pub fn check(value: &Value, today: Option<NaiveDate>) -> Result<Checked, Rejected> {
        let map = value
            .as_object()
            .ok_or_else(|| Rejected::one(invalid("kind", "每条记录应为一个 JSON 对象".into())))?;
        let kind = match map.get("kind").filter(|v| !is_blank(v)) {
            None => {
                return Err(Rejected::one(Error::MissingField {
                    field: "kind".into(),
                }));
            }
            Some(Value::String(text)) => parse_kind(text.trim()).ok_or_else(|| {
                Rejected::one(invalid(
                    "kind",
                    format!("“{}”不是记录类型，应为 {}", text.trim(), kind_choices()),
                ))
            })?,
            Some(_) => return Err(Rejected::one(invalid("kind", "应为字符串".into()))),
        };
        let mut reader = Reader {
            map,
            spec: kind_spec(kind),
            today,
            problems: Vec::new(),
            warnings: Vec::new(),
        };
        let record = reader.record(kind);
        let Reader {
            spec,
            mut problems,
            warnings,
            ..
        } = reader;
        match record {
            Some(record) if problems.is_empty() => Ok(Checked { record, warnings }),
            _ => {
                problems.sort_by_key(|p| {
                    p.field()
                        .and_then(|f| spec.fields.iter().position(|s| s.name == f))
                        .unwrap_or(usize::MAX)
                });
                if problems.is_empty() {
                    problems.push(Error::Internal(
                        "record incomplete without a problem".into(),
                    ));
                }
                Err(Rejected { problems, warnings })
            }
        }
    }

    /// Parses one item without the date-range checks, answering its first
    /// problem: for records inside other requests (a correction's record)
    /// and tests.
    pub fn from_json(value: &Value) -> Result<Record, Error> {
        Record::check(value, None)
            .map(|checked| checked.record)
            .map_err(|mut rejected| rejected.problems.swap_remove(0))
    }
}

fn parse_kind(text: &str) -> Option<RecordKind> {
    RecordKind::ALL
        .into_iter()
        .find(|k| k.as_str() == text || k.label() == text)
}

fn kind_choices() -> String {
    let choices: Vec<String> = RecordKind::ALL
        .iter()
        .map(|k| format!("{}（{}）", k.as_str(), k.label()))
        .collect();
    choices.join("、")
}

fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Reads the submitted object field by field, collecting every problem.
struct Reader<'a> {
    map: &'a Map<String, Value>,
    spec: &'static KindSpec,
    today: Option<NaiveDate>,
    problems: Vec<Error>,
    warnings: Vec<Warning>,
}

impl Reader<'_> {
    fn record(&mut self, kind: RecordKind) -> Option<Record> {
        for spec in self.spec.fields {
            if spec.required && self.present(spec.name).is_none() {
                self.problems.push(Error::MissingField {
                    field: spec.name.to_owned(),
                });
            }
        }
        let unknown: Vec<&String> = self
            .map
            .iter()
            .filter(|(name, value)| self.spec.field(name).is_none() && !is_blank(value))
            .map(|(name, _)| name)
            .collect();
        for name in unknown {
            self.warnings.push(Warning::new(
                Warning::UNKNOWN_FIELD,
                name,
                format!(
                    "{}没有字段“{name}”，已忽略；字段表见 GET /api/v1/catalog 的 record_fields",
                    self.spec.kind.label()
                ),
            ));
        }
        let common = self.common(kind);
        match kind {
            RecordKind::Penalty => self.penalty(common).map(Record::Penalty),
            RecordKind::DishonestList => self.list_entry(common).map(Record::DishonestList),
            RecordKind::AbnormalList => self.list_entry(common).map(Record::AbnormalList),
            RecordKind::CoerciveMeasure => {
                self.coercive_measure(common).map(Record::CoerciveMeasure)
            }
            RecordKind::CriminalJudgment => {
                self.criminal_judgment(common).map(Record::CriminalJudgment)
            }
        }
    }

    fn problem(&mut self, error: Error) {
        self.problems.push(error);
    }

    /// A value that is there: neither absent, null nor blank text.
    fn present(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !is_blank(v))
    }

    fn text(&mut self, name: &str) -> Option<String> {
        match self.present(name)? {
            Value::String(s) => {
                let t = s.trim();
                if t.chars().count() > MAX_TEXT_CHARS {
                    self.problem(invalid(name, format!("超过 {MAX_TEXT_CHARS} 字的上限")));
                    None
                } else if let Some(c) = first_forbidden_in_record_text(t) {
                    // Printed into sealed reports: a hidden or reordering
                    // character would make the report read otherwise.
                    self.problem(invalid(
                        name,
                        format!("含有控制字符或文字方向控制符 {}，请删除", quoted_char(c)),
                    ));
                    None
                } else {
                    Some(t.to_owned())
                }
            }
            _ => {
                self.problem(invalid(name, "应为字符串".into()));
                None
            }
        }
    }

    fn uscc(&mut self, name: &str) -> Option<CreditCode> {
        let text = self.text(name)?;
        match text.parse::<CreditCode>() {
            Ok(code) => Some(code),
            Err(e) => {
                self.problem(e.for_field(name));
                None
            }
        }
    }

    fn date(&mut self, name: &str) -> Option<NaiveDate> {
        let text = self.text(name)?;
        let date = parse_date(&text);
        if date.is_none() {
            self.problem(invalid(
                name,
                format!("日期应为 YYYY-MM-DD（也接受 2026/3/5、2026年3月5日），收到“{text}”"),
            ));
        }
        date
    }

    /// A date that cannot lie after today, nor (with `floor`) before the
    /// collection start; both checked only when today is known.
    fn past_date(&mut self, name: &str, floor: bool) -> Option<NaiveDate> {
        let date = self.date(name)?;
        let label = self.label(name);
        if let Some(today) = self.today.filter(|today| date > *today) {
            self.problem(invalid(
                name,
                format!("{label}{date}晚于今天（{today}），请核对"),
            ));
        } else if floor && self.today.is_some() && date < DATA_START {
            self.problem(invalid(
                name,
                format!(
                    "{label}{date}早于 2021-01-01：本服务归集 2021 年 1 月 1 日以后的信息，这条记录不会出现在任何报告中"
                ),
            ));
        }
        Some(date)
    }

    fn money(&mut self, name: &str) -> Option<WanYuan> {
        let text = match self.present(name)? {
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.problem(invalid(
                    name,
                    "金额应为十进制数字，如 \"1.5\"（单位：万元）".into(),
                ));
                return None;
            }
        };
        match text.parse::<WanYuan>() {
            Ok(amount) => Some(amount),
            Err(detail) => {
                self.problem(invalid(name, detail));
                None
            }
        }
    }

    fn flag(&mut self, name: &str) -> bool {
        let value = match self.present(name) {
            None => return false,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "是" | "true" | "1" => Some(true),
                "否" | "false" | "0" => Some(false),
                _ => None,
            },
            Some(_) => None,
        };
        value.unwrap_or_else(|| {
            self.problem(invalid(name, "应为 true 或 false（也接受 是、否）".into()));
            false
        })
    }

    /// A closed word: its code or its Chinese label.
    fn word<T: Copy>(
        &mut self,
        name: &str,
        all: &[T],
        code: fn(T) -> &'static str,
        label: fn(T) -> &'static str,
    ) -> Option<T> {
        let text = self.text(name)?;
        let found = all
            .iter()
            .copied()
            .find(|w| code(*w) == text || label(*w) == text);
        if found.is_none() {
            let choices: Vec<String> = all
                .iter()
                .map(|w| format!("{}（{}）", code(*w), label(*w)))
                .collect();
            self.problem(invalid(
                name,
                format!("“{text}”应为 {}", choices.join("、")),
            ));
        }
        found
    }

    fn categories(&mut self, name: &str) -> Option<Vec<PenaltyCategory>> {
        self.word_list(
            name,
            PenaltyCategory::parse,
            ("罚款", "警告"),
            |unknown| {
                format!(
                    "“{unknown}”不是行政处罚法第九条规定的处罚种类，可填：{}",
                    PenaltyCategory::ALL.map(PenaltyCategory::label).join("、")
                )
            },
        )
    }

    fn measure_types(&mut self, name: &str) -> Option<Vec<CoerciveMeasureType>> {
        self.word_list(
            name,
            CoerciveMeasureType::parse,
            ("查封", "扣押"),
            |unknown| {
                format!(
                    "“{unknown}”不是行政强制法第九条规定的行政强制措施种类，可填：{}",
                    CoerciveMeasureType::ALL
                        .map(CoerciveMeasureType::label)
                        .join("；")
                )
            },
        )
    }

    /// One or more closed words: an array, or one text separated by
    /// ；、; or , (as spreadsheets write them); repeats are dropped and
    /// every unknown word is named at once.
    fn word_list<T: Copy + PartialEq>(
        &mut self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        (first, second): (&str, &str),
        unknown_detail: impl Fn(&str) -> String,
    ) -> Option<Vec<T>> {
        let words: Vec<Value> = match self.present(name)? {
            Value::Array(items) => items.clone(),
            Value::String(s) => s
                .split(['；', ';', '、', ',', '，'])
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(|w| Value::String(w.to_owned()))
                .collect(),
            _ => Vec::new(),
        };
        if words.is_empty() {
            self.problem(invalid(
                name,
                format!("应为非空数组，如 [\"{first}\"]，或“{first}；{second}”"),
            ));
            return None;
        }
        let mut found = Vec::with_capacity(words.len());
        let mut unknown = Vec::new();
        for word in &words {
            match word.as_str().and_then(parse) {
                Some(w) if !found.contains(&w) => found.push(w),
                Some(_) => {}
                None => unknown.push(
                    word.as_str()
                        .map_or_else(|| word.to_string(), str::to_owned),
                ),
            }
        }
        if !unknown.is_empty() {
            self.problem(invalid(name, unknown_detail(&unknown.join("、"))));
            return None;
        }
        Some(found)
    }

    fn label(&self, name: &str) -> &'static str {
        self.spec.field(name).map_or("", |f: &FieldSpec| f.column)
    }

    fn common(&mut self, kind: RecordKind) -> Option<Common> {
        let domain = self.text("domain");
        if let Some(code) = &domain {
            match catalog().data_domain(code) {
                None => self.problem(Error::UnknownDomain {
                    field: "domain".into(),
                    code: code.clone(),
                }),
                Some(data_domain) if !data_domain.scope.contains(&kind) => {
                    self.problem(invalid(
                        "kind",
                        format!(
                            "{}领域不归集{}（数据范围见目录）",
                            data_domain.name,
                            kind.label()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        let document_no = self.text("document_no");
        let entity_name = self.text("entity_name");
        let uscc = self.uscc("uscc");
        let authority = self.text("authority");
        let authority_uscc = self.uscc("authority_uscc");
        let source_unit = self.text("source_unit");
        let source_unit_uscc = self.uscc("source_unit_uscc");
        let note = self.text("note");
        Some(Common {
            domain: domain?,
            document_no: document_no?,
            entity_name: entity_name?,
            uscc: uscc?,
            authority: authority?,
            authority_uscc: authority_uscc?,
            source_unit: source_unit?,
            source_unit_uscc: source_unit_uscc?,
            note,
        })
    }

    /// Reads the kind's own fields also when the common ones failed, so
    /// every problem is found.
    fn penalty(&mut self, common: Option<Common>) -> Option<Penalty> {
        let categories = self.categories("penalty_categories");
        let procedure = self.word(
            "procedure",
            &Procedure::ALL,
            Procedure::as_str,
            Procedure::label,
        );
        let severity = self.word(
            "severity",
            &Severity::ALL,
            Severity::as_str,
            Severity::label,
        );
        let decided_on = self.past_date("decided_on", true);
        let penalty_valid_until = self.date("penalty_valid_until");
        let publicity_until = self.date("publicity_until");
        if let Some(decided) = decided_on {
            if penalty_valid_until.is_some_and(|v| v < decided) {
                self.problem(invalid(
                    "penalty_valid_until",
                    format!("处罚有效期不能早于处罚决定日期（{decided}）"),
                ));
            }
            if publicity_until.is_some_and(|p| p < decided) {
                self.problem(invalid(
                    "publicity_until",
                    format!("公示截止期不能早于处罚决定日期（{decided}）"),
                ));
            }
        }
        let fine = self.money("fine_wan_yuan");
        let confiscated = self.money("confiscated_wan_yuan");
        let not_penalized = self.flag("not_penalized");
        if let Some(categories) = &categories {
            self.check_amounts(categories, fine, confiscated, not_penalized);
        }
        let entity_category = self.text("entity_category");
        let legal_representative = self.text("legal_representative");
        let violation_type = self.text("violation_type");
        let facts = self.text("facts");
        let legal_basis = self.text("legal_basis");
        let penalty_content = self.text("penalty_content");
        let license_action = self.text("license_action");
        Some(Penalty {
            common: common?,
            entity_category: entity_category?,
            legal_representative,
            violation_type: violation_type?,
            facts: facts?,
            legal_basis: legal_basis?,
            penalty_categories: categories?,
            penalty_content: penalty_content?,
            fine_wan_yuan: fine,
            confiscated_wan_yuan: confiscated,
            license_action,
            decided_on: decided_on?,
            penalty_valid_until: penalty_valid_until?,
            publicity_until,
            procedure: procedure?,
            not_penalized,
            severity,
        })
    }

    /// A fine category needs its amount (rejected without); an amount
    /// without its category is warned.
    fn check_amounts(
        &mut self,
        categories: &[PenaltyCategory],
        fine: Option<WanYuan>,
        confiscated: Option<WanYuan>,
        not_penalized: bool,
    ) {
        let fined = categories.contains(&PenaltyCategory::Fine);
        if fined && fine.is_none() && !not_penalized && self.present("fine_wan_yuan").is_none() {
            self.problem(invalid(
                "fine_wan_yuan",
                "处罚类别含“罚款”，应填写罚款金额（万元）".into(),
            ));
        }
        if !fined && fine.is_some() {
            self.warnings.push(Warning::new(
                Warning::AMOUNT_WITHOUT_CATEGORY,
                "fine_wan_yuan",
                "填写了罚款金额，但处罚类别不含“罚款”，请核对处罚类别".into(),
            ));
        }
        let confiscating = categories.iter().any(|c| {
            matches!(
                c,
                PenaltyCategory::ConfiscateIllegalGains
                    | PenaltyCategory::ConfiscateIllegalProperty
            )
        });
        if !confiscating && confiscated.is_some() {
            self.warnings.push(Warning::new(
                Warning::AMOUNT_WITHOUT_CATEGORY,
                "confiscated_wan_yuan",
                "填写了没收金额，但处罚类别不含“没收违法所得”或“没收非法财物”，请核对处罚类别"
                    .into(),
            ));
        }
    }

    fn list_entry(&mut self, common: Option<Common>) -> Option<ListEntry> {
        let list_name = self.text("list_name").or_else(|| {
            (self.spec.kind == RecordKind::AbnormalList)
                .then(|| RecordKind::AbnormalList.label().to_owned())
        });
        let listed_on = self.past_date("listed_on", false);
        let removed_on = self.past_date("removed_on", true);
        if let (Some(listed), Some(removed)) = (listed_on, removed_on)
            && removed < listed
        {
            self.problem(invalid(
                "removed_on",
                format!("移出日期不能早于列入日期（{listed}）"),
            ));
        }
        let reason = self.text("reason");
        let basis = self.text("basis");
        let removal_reason = self.text("removal_reason");
        let removal_authority = self.text("removal_authority");
        Some(ListEntry {
            common: common?,
            list_name: list_name?,
            reason: reason?,
            basis,
            listed_on: listed_on?,
            removed_on,
            removal_reason,
            removal_authority,
        })
    }
}

impl Reader<'_> {
    fn coercive_measure(&mut self, common: Option<Common>) -> Option<CoerciveMeasure> {
        let measure_types = self.measure_types("measure_types");
        let cause = self.text("cause");
        let legal_basis = self.text("legal_basis");
        let decided_on = self.past_date("decided_on", true);
        let lifted_on = self.past_date("lifted_on", false);
        if let (Some(decided), Some(lifted)) = (decided_on, lifted_on)
            && lifted < decided
        {
            self.problem(invalid(
                "lifted_on",
                format!("解除日期不能早于决定日期（{decided}）"),
            ));
        }
        Some(CoerciveMeasure {
            common: common?,
            measure_types: measure_types?,
            cause: cause?,
            legal_basis: legal_basis?,
            decided_on: decided_on?,
            lifted_on,
        })
    }

    /// A judgment counts from its 生效日期, so that date carries the
    /// collection floor; the 判决日期 only has to come first.
    fn criminal_judgment(&mut self, common: Option<Common>) -> Option<CriminalJudgment> {
        let charges = self.text("charges");
        let verdict = self.text("verdict");
        let judged_on = self.past_date("judged_on", false);
        let effective_on = self.past_date("effective_on", true);
        if let (Some(judged), Some(effective)) = (judged_on, effective_on)
            && effective < judged
        {
            self.problem(invalid(
                "effective_on",
                format!("生效日期不能早于判决日期（{judged}）"),
            ));
        }
        let unit_crime = self.flag("unit_crime");
        Some(CriminalJudgment {
            common: common?,
            charges: charges?,
            verdict: verdict?,
            judged_on: judged_on?,
            effective_on: effective_on?,
            unit_crime,
        })
    }
}

/// `YYYY-MM-DD`, and as spreadsheets write dates: `YYYY/M/D`, `YYYY.M.D`,
/// `YYYY年M月D日`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = text
        .trim_end_matches('日')
        .split(['-', '/', '.', '年', '月'])
        .collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    if year.len() != 4 || !digits(year, 4) || !digits(month, 2) || !digits(day, 2) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)?;
    (date.year() >= 1900).then_some(date)
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
    use crate::record::fields::FieldType;
    use crate::record::samples::*;
    use crate::vocabulary::CoerciveMeasureType;
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
    fn control_and_direction_characters_are_refused_in_every_text_field() {
        let samples = [
            penalty("永税罚〔2026〕1号", "2026-03-01"),
            listing("永市监异〔2025〕9号", "2025-01-02", None),
            coercive_measure("永税强〔2026〕1号", "2026-03-01", None),
            criminal_judgment("（2026）永刑初1号", "2026-03-01", "2026-03-12"),
        ];
        for sample in samples {
            let kind = parse_kind(sample["kind"].as_str().unwrap()).unwrap();
            let text_fields = kind_spec(kind)
                .fields
                .iter()
                .filter(|f| f.field_type == FieldType::Text);
            for field in text_fields {
                for bad in [
                    "FUZZ\u{0}NUL",
                    "FUZZ\u{202e}RTL",
                    "FUZZ\u{2066}ISO",
                    "\u{1b}[31m红",
                ] {
                    let mut record = sample.clone();
                    record[field.name] = json!(bad);
                    let e = error_of(record);
                    assert_eq!(
                        (e.code(), e.field()),
                        ("INVALID_FIELD", Some(field.name)),
                        "{} {bad:?}",
                        field.name
                    );
                    assert!(e.to_string().contains("U+"), "{e}");
                }
            }
        }
        let mut paragraphs = penalty("永税罚〔2026〕1号", "2026-03-01");
        paragraphs["facts"] = json!("第一段\r\n第二段\t补充");
        paragraphs["note"] = json!("备注一\n备注二");
        let Record::Penalty(p) = Record::from_json(&paragraphs).unwrap() else {
            panic!("not a penalty")
        };
        assert_eq!(p.facts, "第一段\r\n第二段\t补充");
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
                json!("2026-02-30"),
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

    fn today() -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 6, 1)
    }

    fn problems_of(v: Value) -> Vec<(&'static str, String)> {
        Record::check(&v, today())
            .unwrap_err()
            .problems
            .iter()
            .map(|p| (p.code(), p.field().unwrap_or_default().to_owned()))
            .collect()
    }

    #[test]
    fn every_problem_of_an_item_is_named_at_once_in_field_order() {
        let mut v = penalty("X", "2026-01-01");
        v["uscc"] = json!("91350200776049653B");
        v.as_object_mut().unwrap().remove("document_no");
        v["procedure"] = json!("fast");
        assert_eq!(
            problems_of(v),
            [
                ("INVALID_USCC", "uscc".to_owned()),
                ("MISSING_FIELD", "document_no".to_owned()),
                ("INVALID_FIELD", "procedure".to_owned()),
            ]
        );
    }

    #[test]
    fn dates_after_today_or_before_collection_are_rejected() {
        let future = penalty("X", "2026-06-02");
        assert_eq!(
            problems_of(future),
            [("INVALID_FIELD", "decided_on".to_owned())]
        );
        assert!(Record::check(&penalty("X", "2026-06-01"), today()).is_ok());
        let old = penalty("X", "2020-12-31");
        assert_eq!(
            problems_of(old),
            [("INVALID_FIELD", "decided_on".to_owned())]
        );
        // A listing from before 2021 still in force counts; one removed before never does.
        assert!(Record::check(&listing("L", "2019-05-01", None), today()).is_ok());
        let gone = listing("L", "2019-05-01", Some("2020-05-01"));
        assert_eq!(
            problems_of(gone),
            [("INVALID_FIELD", "removed_on".to_owned())]
        );
        let removed_tomorrow = listing("L", "2026-01-01", Some("2026-06-02"));
        assert_eq!(
            problems_of(removed_tomorrow),
            [("INVALID_FIELD", "removed_on".to_owned())]
        );
        let mut after_validity = penalty("X", "2026-03-01");
        after_validity["penalty_valid_until"] = json!("2026-02-28");
        assert_eq!(
            problems_of(after_validity),
            [("INVALID_FIELD", "penalty_valid_until".to_owned())]
        );
    }

    #[test]
    fn spreadsheet_spellings_are_read_as_the_codes() {
        let mut v = penalty("X", "2026年3月5日");
        v["kind"] = json!("行政处罚");
        v["penalty_categories"] = json!("罚款；警告");
        v["procedure"] = json!("简易程序");
        v["severity"] = json!("轻微");
        v["not_penalized"] = json!("否");
        v["penalty_valid_until"] = json!("2027/3/5");
        v["fine_wan_yuan"] = json!(" 0.2 ");
        let Record::Penalty(p) = Record::check(&v, today()).unwrap().record else {
            panic!()
        };
        assert_eq!(p.decided_on, NaiveDate::from_ymd_opt(2026, 3, 5).unwrap());
        assert_eq!(
            p.penalty_valid_until,
            NaiveDate::from_ymd_opt(2027, 3, 5).unwrap()
        );
        assert_eq!(
            p.penalty_categories,
            [PenaltyCategory::Fine, PenaltyCategory::Warning]
        );
        assert_eq!(
            (p.procedure, p.severity),
            (Procedure::Simplified, Some(Severity::Minor))
        );
        assert!(!p.not_penalized);
    }

    #[test]
    fn unknown_fields_and_stray_amounts_are_warned() {
        let mut v = penalty("X", "2026-01-01");
        v["penalty_categories"] = json!(["警告"]);
        v["removed_on"] = json!("2026-02-01");
        v["remark"] = json!("x");
        v["empty_extra"] = json!("");
        let checked = Record::check(&v, today()).unwrap();
        let warned: Vec<_> = checked
            .warnings
            .iter()
            .map(|w| (w.code, w.field.as_str()))
            .collect();
        assert_eq!(
            warned,
            [
                (Warning::UNKNOWN_FIELD, "remark"),
                (Warning::UNKNOWN_FIELD, "removed_on"),
                (Warning::AMOUNT_WITHOUT_CATEGORY, "fine_wan_yuan"),
            ]
        );
    }

    #[test]
    fn a_fine_needs_its_amount_unless_not_penalized() {
        let mut v = penalty("X", "2026-01-01");
        v.as_object_mut().unwrap().remove("fine_wan_yuan");
        assert_eq!(
            problems_of(v.clone()),
            [("INVALID_FIELD", "fine_wan_yuan".to_owned())]
        );
        v["not_penalized"] = json!(true);
        assert!(Record::check(&v, today()).is_ok());
    }

    #[test]
    fn a_coercive_measure_parses_its_measures_in_any_spelling() {
        let mut v = coercive_measure("永市监强〔2026〕3号", "2026-03-01", None);
        v["measure_types"] = json!("查封；扣押财物、freeze；查封");
        let checked = Record::check(&v, today()).unwrap();
        assert_eq!(checked.warnings, []);
        let Record::CoerciveMeasure(m) = &checked.record else {
            panic!("not a coercive measure")
        };
        assert_eq!(
            m.measure_types,
            [
                CoerciveMeasureType::SealUp,
                CoerciveMeasureType::Seize,
                CoerciveMeasureType::Freeze
            ]
        );
        assert_eq!(m.lifted_on, None);
        let wire = serde_json::to_value(&checked.record).unwrap();
        assert_eq!(wire["kind"], "coercive_measure");
        assert_eq!(wire["measure_types"], json!(["seal_up", "seize", "freeze"]));
        assert_eq!(Record::from_json(&wire).unwrap(), checked.record);
        let mut by_label = coercive_measure("X", "2026-03-01", None);
        by_label["kind"] = json!("行政强制措施");
        assert!(Record::check(&by_label, today()).is_ok());
    }

    #[test]
    fn a_coercive_measure_is_lifted_after_it_is_decided_and_names_known_measures() {
        assert_eq!(
            problems_of(coercive_measure("X", "2026-03-01", Some("2026-02-28"))),
            [("INVALID_FIELD", "lifted_on".to_owned())]
        );
        assert!(
            Record::check(
                &coercive_measure("X", "2026-03-01", Some("2026-03-01")),
                today()
            )
            .is_ok()
        );
        assert_eq!(
            problems_of(coercive_measure("X", "2026-03-01", Some("2026-06-02"))),
            [("INVALID_FIELD", "lifted_on".to_owned())],
            "lifted after today"
        );
        let mut unknown = coercive_measure("X", "2026-03-01", None);
        unknown["measure_types"] = json!(["查封", "拆除"]);
        let problems = Record::check(&unknown, today()).unwrap_err().problems;
        assert_eq!(problems[0].field(), Some("measure_types"));
        assert!(problems[0].to_string().contains("拆除"), "{}", problems[0]);
        let mut empty = coercive_measure("X", "2026-03-01", None);
        empty["measure_types"] = json!([]);
        assert_eq!(
            problems_of(empty),
            [("INVALID_FIELD", "measure_types".to_owned())]
        );
        let mut wrong_domain = coercive_measure("X", "2026-03-01", None);
        wrong_domain["domain"] = json!("education");
        assert_eq!(
            problems_of(wrong_domain),
            [("INVALID_FIELD", "kind".to_owned())]
        );
    }

    #[test]
    fn a_criminal_judgment_takes_effect_on_or_after_its_judgment() {
        let checked = Record::check(
            &criminal_judgment("（2026）甘0321刑初12号", "2026-02-10", "2026-02-25"),
            today(),
        )
        .unwrap();
        let Record::CriminalJudgment(j) = &checked.record else {
            panic!("not a criminal judgment")
        };
        assert!(j.unit_crime);
        assert_eq!(
            j.effective_on,
            NaiveDate::from_ymd_opt(2026, 2, 25).unwrap()
        );
        assert_eq!(
            problems_of(criminal_judgment("X", "2026-02-10", "2026-02-09")),
            [("INVALID_FIELD", "effective_on".to_owned())]
        );
        // Pronounced before collection started, effective after: accepted.
        assert!(
            Record::check(&criminal_judgment("X", "2020-12-20", "2021-01-05"), today()).is_ok()
        );
        assert_eq!(
            problems_of(criminal_judgment("X", "2020-12-01", "2020-12-20")),
            [("INVALID_FIELD", "effective_on".to_owned())]
        );
        let mut spelled = criminal_judgment("X", "2026年2月10日", "2026/2/25");
        spelled["unit_crime"] = json!("否");
        spelled["kind"] = json!("刑事裁判");
        let Record::CriminalJudgment(j) = Record::check(&spelled, today()).unwrap().record else {
            panic!()
        };
        assert!(!j.unit_crime);
    }

    #[test]
    fn a_criminal_judgment_names_every_missing_field_at_once() {
        let mut v = criminal_judgment("X", "2026-02-10", "2026-02-25");
        for field in ["document_no", "charges", "verdict", "unit_crime"] {
            v.as_object_mut().unwrap().remove(field);
        }
        v["document_no"] = json!("  ");
        assert_eq!(
            problems_of(v),
            [
                ("MISSING_FIELD", "document_no".to_owned()),
                ("MISSING_FIELD", "charges".to_owned()),
                ("MISSING_FIELD", "verdict".to_owned()),
                ("MISSING_FIELD", "unit_crime".to_owned()),
            ]
        );
    }
}
