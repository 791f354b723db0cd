//! Records as departments submit them: administrative penalties (行政处罚),
//! serious-dishonesty list entries (严重失信主体名单), abnormal-operation
//! list entries (经营异常名录), with the 双公示 fields of the policy README,
//! and, as 发改财金〔2025〕565号 adds, administrative coercive measures
//! (行政强制措施) and criminal judgments (刑事裁判文书).
//!
//! [`Record::check`] is the way in from outside: it enforces what the kind's
//! field table (`fields`) requires and the data-quality checks, and answers
//! every problem of an item at once, each naming its field.
//! The identity of a record is (domain, kind, document_no); [`RecordId`] is
//! derived from it, so a replay finds the same record.

pub mod csv;
pub mod fields;
mod model;
mod parse;
mod print;
pub mod schema;

pub use model::{
    CoerciveMeasure, Common, CriminalJudgment, ListEntry, Penalty, Record, RecordId, StoredRecord,
};
pub use parse::{Checked, MAX_TEXT_CHARS, Rejected, Warning};
// The word lists moved to `vocabulary`; these paths keep working for code
// that still names them through `record`.
pub use crate::vocabulary::{
    CoerciveMeasureType, PenaltyCategory, Procedure, RecordKind, RecordStatus, Severity,
};

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

    pub fn coercive_measure(document_no: &str, decided_on: &str, lifted_on: Option<&str>) -> Value {
        json!({
            "kind": "coercive_measure", "domain": "market_regulation", "document_no": document_no,
            "entity_name": "永昌县示例商贸有限公司", "uscc": ENTITY,
            "measure_types": ["seal_up", "seize"], "cause": "涉嫌生产销售不符合安全标准的产品",
            "legal_basis": "《中华人民共和国产品质量法》第十八条",
            "decided_on": decided_on, "lifted_on": lifted_on,
            "authority": "永昌县市场监督管理局", "authority_uscc": AUTHORITY,
            "source_unit": "县市场监管局", "source_unit_uscc": AUTHORITY
        })
    }

    pub fn criminal_judgment(document_no: &str, judged_on: &str, effective_on: &str) -> Value {
        json!({
            "kind": "criminal_judgment", "domain": "criminal_judgment", "document_no": document_no,
            "entity_name": "永昌县示例商贸有限公司", "uscc": ENTITY,
            "authority": "永昌县人民法院", "authority_uscc": AUTHORITY,
            "charges": "虚开增值税专用发票罪", "verdict": "判处被告单位罚金人民币二十万元",
            "judged_on": judged_on, "effective_on": effective_on, "unit_crime": true,
            "source_unit": "县人民法院", "source_unit_uscc": AUTHORITY
        })
    }
}
