//! The answer of `GET /api/v1/catalog`: the catalog's data plus every word
//! list the pages show, as codes with their Chinese labels, so no page
//! spells a label of its own.
//!
//! Kept apart from `catalog` because the dispute and role word lists live
//! in modules that depend on the catalog themselves.

use serde::Serialize;

use crate::auth::Role;
use crate::catalog::{Catalog, catalog};
use crate::config::Settings;
use crate::dispute::{EvidenceType, Ground, MAX_EVIDENCE_BYTES, ObjectionStatus, RepairStatus};
use crate::record::fields::{KINDS, KindSpec};
use crate::upload::MAX_FILE_BYTES;
use crate::vocabulary::{
    CoerciveMeasureType, ItemResult, PenaltyCategory, Procedure, RecordKind, RecordStatus,
    ReportEdition, Severity, VerificationOutcome,
};
use crate::window::ReportMonths;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogDocument {
    #[serde(flatten)]
    pub catalog: &'static Catalog,
    pub vocabulary: Vocabulary,
    /// Each record kind's fields: API name, 双公示 column, other accepted
    /// column names, type, required, description, example (the CSV column
    /// table the desk and `docs/api.md` use).
    pub record_fields: &'static [KindSpec],
}

/// One word: the code the API reads and writes, and how the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Term {
    pub code: String,
    pub label: &'static str,
}

/// Each list in the order a form offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vocabulary {
    pub record_kinds: Vec<Term>,
    pub procedures: Vec<Term>,
    pub severities: Vec<Term>,
    pub penalty_categories: Vec<Term>,
    pub coercive_measure_types: Vec<Term>,
    pub record_statuses: Vec<Term>,
    pub item_results: Vec<Term>,
    pub objection_grounds: Vec<Term>,
    pub objection_statuses: Vec<Term>,
    pub repair_statuses: Vec<Term>,
    pub evidence_types: Vec<Term>,
    pub report_editions: Vec<Term>,
    pub verification_outcomes: Vec<Term>,
    pub roles: Vec<Term>,
}

/// The figures and words of the guides page (办事指南) that a deployment
/// sets: served with the catalog so the page states what the service does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guide {
    /// Contacts, as the county writes them (`guide_contact_text`).
    pub contact_text: String,
    /// The periods a report may cover.
    pub report_months: [u32; 3],
    pub report_validity_days: u32,
    pub apply_limit_per_day: u32,
    pub objection_accept_working_days: u32,
    pub objection_answer_working_days: u32,
    pub repair_answer_working_days: u32,
    /// Minimum publicity before repair, months by severity.
    pub repair_min_months: RepairMonths,
    pub verify_file_max_bytes: usize,
    pub evidence_max_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RepairMonths {
    pub minor: u32,
    pub general: u32,
    pub serious: u32,
}

impl Guide {
    pub fn of(settings: &Settings) -> Guide {
        let disputes = &settings.disputes;
        Guide {
            contact_text: settings.guide_contact_text.clone(),
            report_months: ReportMonths::ALL.map(u32::from),
            report_validity_days: settings.rules.report_validity_days,
            apply_limit_per_day: settings.rules.apply_limit_per_day,
            objection_accept_working_days: disputes.accept_working_days,
            objection_answer_working_days: disputes.answer_working_days,
            repair_answer_working_days: disputes.repair_answer_working_days,
            repair_min_months: RepairMonths {
                minor: disputes.repair_min_months.minor,
                general: disputes.repair_min_months.general,
                serious: disputes.repair_min_months.serious,
            },
            verify_file_max_bytes: MAX_FILE_BYTES,
            evidence_max_bytes: MAX_EVIDENCE_BYTES,
        }
    }
}

/// `GET /api/v1/catalog`: the catalog document and this deployment's guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServedCatalog {
    #[serde(flatten)]
    pub document: CatalogDocument,
    pub guide: Guide,
}

pub fn served_catalog(settings: &Settings) -> ServedCatalog {
    ServedCatalog {
        document: catalog_document(),
        guide: Guide::of(settings),
    }
}

pub fn catalog_document() -> CatalogDocument {
    CatalogDocument {
        catalog: catalog(),
        vocabulary: vocabulary(),
        record_fields: KINDS,
    }
}

pub fn vocabulary() -> Vocabulary {
    Vocabulary {
        record_kinds: terms(RecordKind::ALL, RecordKind::label),
        procedures: terms(Procedure::ALL, Procedure::label),
        severities: terms(Severity::ALL, Severity::label),
        penalty_categories: terms(PenaltyCategory::ALL, PenaltyCategory::label),
        coercive_measure_types: terms(CoerciveMeasureType::ALL, CoerciveMeasureType::label),
        record_statuses: terms(RecordStatus::ALL, RecordStatus::name),
        item_results: terms(ItemResult::ALL, ItemResult::label),
        objection_grounds: terms(Ground::ALL, Ground::label),
        objection_statuses: terms(ObjectionStatus::ALL, ObjectionStatus::label),
        repair_statuses: terms(RepairStatus::ALL, RepairStatus::label),
        evidence_types: terms(EvidenceType::ALL, evidence_label),
        report_editions: terms(ReportEdition::ALL, ReportEdition::label),
        verification_outcomes: terms(VerificationOutcome::ALL, VerificationOutcome::label),
        roles: terms(ROLES, role_label),
    }
}

/// The code is the word's serde name, so it is the very string the API
/// reads and writes.
fn terms<T: Serialize + Copy, const N: usize>(
    words: [T; N],
    label: fn(T) -> &'static str,
) -> Vec<Term> {
    words
        .into_iter()
        .map(|word| Term {
            code: match serde_json::to_value(word) {
                Ok(serde_json::Value::String(code)) => code,
                other => unreachable!("a word list serializes as strings, got {other:?}"),
            },
            label: label(word),
        })
        .collect()
}

fn evidence_label(evidence: EvidenceType) -> &'static str {
    match evidence {
        EvidenceType::Pdf => "PDF文件",
        EvidenceType::Png => "PNG图片",
        EvidenceType::Jpeg => "JPEG图片",
    }
}

const ROLES: [Role; 4] = [Role::Entity, Role::Staff, Role::Department, Role::Admin];

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Entity => "市场主体（法人用户）",
        Role::Staff => "窗口帮办人员",
        Role::Department => "责任单位",
        Role::Admin => "管理员",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serves_the_catalog_with_the_word_lists() {
        let v = serde_json::to_value(catalog_document()).unwrap();
        assert_eq!(
            v["purposes"],
            serde_json::to_value(&catalog().purposes).unwrap()
        );
        // Each purpose names the edition of its reports.
        for purpose in v["purposes"].as_array().unwrap() {
            let listing = purpose["group"] == "金融市场应用";
            assert_eq!(
                purpose["edition"],
                if listing { "listing" } else { "general" },
                "{purpose}"
            );
        }
        let words = &v["vocabulary"];
        assert_eq!(
            words["record_kinds"][1],
            json!({"code": "dishonest_list", "label": "严重失信主体名单"})
        );
        assert_eq!(
            words["objection_grounds"][0],
            json!({"code": "error", "label": "错误"})
        );
        assert_eq!(words["evidence_types"][0]["code"], "application/pdf");
        assert_eq!(
            words["verification_outcomes"][5],
            json!({"code": "NOT_FOUND", "label": "未找到该核验码对应的报告"})
        );
        assert_eq!(words["record_statuses"][0]["code"], "active");
        assert_eq!(words["penalty_categories"].as_array().unwrap().len(), 14);
        assert_eq!(v["record_fields"][0]["kind"], "penalty");
        assert_eq!(
            v["record_fields"][0]["fields"][2],
            json!({"name": "entity_name", "column": "行政相对人名称",
                   "aliases": ["名称", "市场主体名称", "主体名称"], "type": "text", "required": true,
                   "description": "行政相对人名称，应与该统一社会信用代码已有记录的名称一致",
                   "example": "永昌县示例商贸有限公司"})
        );
    }

    #[test]
    fn every_role_has_a_label_and_parses_back() {
        for term in vocabulary().roles {
            assert!(term.code.parse::<Role>().is_ok(), "{}", term.code);
        }
    }
}
