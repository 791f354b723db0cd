//! The closed word lists of records and reports: each word's API code and
//! its Chinese label, the one place either is spelled. The catalog serves
//! them to the pages, so a label changes here or nowhere.
//!
//! A leaf: it depends on no other module of the crate.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Penalty,
    DishonestList,
    AbnormalList,
    /// 行政强制措施 (行政强制法 第九条).
    CoerciveMeasure,
    /// 刑事裁判文书: an effective criminal judgment.
    CriminalJudgment,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] = [
        RecordKind::Penalty,
        RecordKind::DishonestList,
        RecordKind::AbnormalList,
        RecordKind::CoerciveMeasure,
        RecordKind::CriminalJudgment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Penalty => "penalty",
            RecordKind::DishonestList => "dishonest_list",
            RecordKind::AbnormalList => "abnormal_list",
            RecordKind::CoerciveMeasure => "coercive_measure",
            RecordKind::CriminalJudgment => "criminal_judgment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RecordKind::Penalty => "行政处罚",
            RecordKind::DishonestList => "严重失信主体名单",
            RecordKind::AbnormalList => "经营异常名录",
            RecordKind::CoerciveMeasure => "行政强制措施",
            RecordKind::CriminalJudgment => "刑事裁判",
        }
    }

    pub fn parse(code: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == code)
    }
}

/// 简易程序 or 普通程序.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Procedure {
    General,
    Simplified,
}

impl Procedure {
    pub const ALL: [Procedure; 2] = [Procedure::General, Procedure::Simplified];

    pub fn as_str(self) -> &'static str {
        match self {
            Procedure::General => "general",
            Procedure::Simplified => "simplified",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Procedure::General => "普通程序",
            Procedure::Simplified => "简易程序",
        }
    }

    pub fn parse(code: &str) -> Option<Procedure> {
        Procedure::ALL.into_iter().find(|p| p.as_str() == code)
    }
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
    pub const ALL: [Severity; 3] = [Severity::Minor, Severity::General, Severity::Serious];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::General => "general",
            Severity::Serious => "serious",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Minor => "轻微",
            Severity::General => "一般",
            Severity::Serious => "严重",
        }
    }

    pub fn parse(code: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == code)
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

impl PenaltyCategory {
    pub const ALL: [PenaltyCategory; 14] = [
        PenaltyCategory::Warning,
        PenaltyCategory::PublicCriticism,
        PenaltyCategory::Fine,
        PenaltyCategory::ConfiscateIllegalGains,
        PenaltyCategory::ConfiscateIllegalProperty,
        PenaltyCategory::SuspendLicense,
        PenaltyCategory::LowerQualification,
        PenaltyCategory::RevokeLicense,
        PenaltyCategory::RestrictBusiness,
        PenaltyCategory::SuspendProduction,
        PenaltyCategory::OrderClosure,
        PenaltyCategory::RestrictEmployment,
        PenaltyCategory::AdministrativeDetention,
        PenaltyCategory::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PenaltyCategory::Warning => "warning",
            PenaltyCategory::PublicCriticism => "public_criticism",
            PenaltyCategory::Fine => "fine",
            PenaltyCategory::ConfiscateIllegalGains => "confiscate_illegal_gains",
            PenaltyCategory::ConfiscateIllegalProperty => "confiscate_illegal_property",
            PenaltyCategory::SuspendLicense => "suspend_license",
            PenaltyCategory::LowerQualification => "lower_qualification",
            PenaltyCategory::RevokeLicense => "revoke_license",
            PenaltyCategory::RestrictBusiness => "restrict_business",
            PenaltyCategory::SuspendProduction => "suspend_production",
            PenaltyCategory::OrderClosure => "order_closure",
            PenaltyCategory::RestrictEmployment => "restrict_employment",
            PenaltyCategory::AdministrativeDetention => "administrative_detention",
            PenaltyCategory::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PenaltyCategory::Warning => "警告",
            PenaltyCategory::PublicCriticism => "通报批评",
            PenaltyCategory::Fine => "罚款",
            PenaltyCategory::ConfiscateIllegalGains => "没收违法所得",
            PenaltyCategory::ConfiscateIllegalProperty => "没收非法财物",
            PenaltyCategory::SuspendLicense => "暂扣许可证件",
            PenaltyCategory::LowerQualification => "降低资质等级",
            PenaltyCategory::RevokeLicense => "吊销许可证件",
            PenaltyCategory::RestrictBusiness => "限制开展生产经营活动",
            PenaltyCategory::SuspendProduction => "责令停产停业",
            PenaltyCategory::OrderClosure => "责令关闭",
            PenaltyCategory::RestrictEmployment => "限制从业",
            PenaltyCategory::AdministrativeDetention => "行政拘留",
            PenaltyCategory::Other => "其他",
        }
    }

    /// The code or the Chinese name, as departments' spreadsheets write it.
    pub fn parse(text: &str) -> Option<PenaltyCategory> {
        let text = text.trim();
        PenaltyCategory::ALL
            .into_iter()
            .find(|c| c.as_str() == text || c.label() == text)
    }
}

/// The kinds of administrative coercive measure of 行政强制法 第九条, whose
/// fifth item (其他行政强制措施) is why the list has an `Other`. Input
/// accepts the code or the Chinese name; output is the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoerciveMeasureType {
    /// 限制公民人身自由: reaches the sole proprietor of an individual business.
    RestrictPersonalFreedom,
    /// 查封场所、设施或者财物.
    SealUp,
    /// 扣押财物.
    Seize,
    /// 冻结存款、汇款.
    Freeze,
    /// 其他行政强制措施.
    Other,
}

impl CoerciveMeasureType {
    pub const ALL: [CoerciveMeasureType; 5] = [
        CoerciveMeasureType::RestrictPersonalFreedom,
        CoerciveMeasureType::SealUp,
        CoerciveMeasureType::Seize,
        CoerciveMeasureType::Freeze,
        CoerciveMeasureType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CoerciveMeasureType::RestrictPersonalFreedom => "restrict_personal_freedom",
            CoerciveMeasureType::SealUp => "seal_up",
            CoerciveMeasureType::Seize => "seize",
            CoerciveMeasureType::Freeze => "freeze",
            CoerciveMeasureType::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CoerciveMeasureType::RestrictPersonalFreedom => "限制公民人身自由",
            CoerciveMeasureType::SealUp => "查封场所、设施或者财物",
            CoerciveMeasureType::Seize => "扣押财物",
            CoerciveMeasureType::Freeze => "冻结存款、汇款",
            CoerciveMeasureType::Other => "其他行政强制措施",
        }
    }

    /// The code, the Chinese name, or the short word spreadsheets use
    /// (查封, 扣押, 冻结, 其他).
    pub fn parse(text: &str) -> Option<CoerciveMeasureType> {
        let text = text.trim();
        CoerciveMeasureType::ALL
            .into_iter()
            .find(|m| m.as_str() == text || m.label() == text || m.short_label() == text)
    }

    /// The word departments' spreadsheets use for it.
    pub fn short_label(self) -> &'static str {
        match self {
            CoerciveMeasureType::RestrictPersonalFreedom => "限制人身自由",
            CoerciveMeasureType::SealUp => "查封",
            CoerciveMeasureType::Seize => "扣押",
            CoerciveMeasureType::Freeze => "冻结",
            CoerciveMeasureType::Other => "其他",
        }
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
    pub const ALL: [RecordStatus; 4] = [
        RecordStatus::Active,
        RecordStatus::UnderObjection,
        RecordStatus::Repaired,
        RecordStatus::Withdrawn,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RecordStatus::Active => "正常",
            RecordStatus::UnderObjection => "异议处理中",
            RecordStatus::Repaired => "已修复",
            RecordStatus::Withdrawn => "已撤销",
        }
    }

    /// The mark printed beside a record; an active record carries none.
    pub fn label(self) -> Option<&'static str> {
        match self {
            RecordStatus::Active => None,
            RecordStatus::UnderObjection | RecordStatus::Repaired | RecordStatus::Withdrawn => {
                Some(self.name())
            }
        }
    }
}

/// The edition a report is issued in, chosen by its purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportEdition {
    /// 上市版: the financial-market purposes (listing, financing).
    Listing,
    General,
}

impl ReportEdition {
    pub const ALL: [ReportEdition; 2] = [ReportEdition::Listing, ReportEdition::General];

    pub fn label(self) -> &'static str {
        match self {
            ReportEdition::Listing => "上市版",
            ReportEdition::General => "通用版",
        }
    }
}

/// What a verification found, by code and code only: the answer's details
/// (revocation time, appended update) live in `report::Outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerificationOutcome {
    Valid,
    Expired,
    Revoked,
    Tampered,
    Incomplete,
    NotFound,
    Unrecognized,
}

impl VerificationOutcome {
    pub const ALL: [VerificationOutcome; 7] = [
        VerificationOutcome::Valid,
        VerificationOutcome::Expired,
        VerificationOutcome::Revoked,
        VerificationOutcome::Tampered,
        VerificationOutcome::Incomplete,
        VerificationOutcome::NotFound,
        VerificationOutcome::Unrecognized,
    ];

    pub fn code(self) -> &'static str {
        match self {
            VerificationOutcome::Valid => "VALID",
            VerificationOutcome::Expired => "EXPIRED",
            VerificationOutcome::Revoked => "REVOKED",
            VerificationOutcome::Tampered => "TAMPERED",
            VerificationOutcome::Incomplete => "INCOMPLETE",
            VerificationOutcome::NotFound => "NOT_FOUND",
            VerificationOutcome::Unrecognized => "UNRECOGNIZED",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VerificationOutcome::Valid => "真实有效",
            VerificationOutcome::Expired => "已过有效期",
            VerificationOutcome::Revoked => "已撤销",
            VerificationOutcome::Tampered => "文件已被篡改",
            VerificationOutcome::Incomplete => "文件不完整",
            VerificationOutcome::NotFound => "未找到该核验码对应的报告",
            VerificationOutcome::Unrecognized => "无法识别的文件",
        }
    }
}

/// Why a report was revoked, as the public learns it: a fixed category.
/// The deciding unit's own words stay internal (the report's holder, the
/// case and the audit keep them), so a verifier never reads free text
/// about an entity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RevocationCategory {
    /// An objection succeeded: the record was corrected or withdrawn.
    ObjectionUpheld,
    /// Credit repair of a record the report showed was approved.
    CreditRepair,
    /// The department corrected a record the report showed.
    RecordCorrected,
    /// The department withdrew a record the report showed.
    RecordWithdrawn,
    /// Anything else (and revocations stored before categories existed).
    #[default]
    Other,
}

impl RevocationCategory {
    pub const ALL: [RevocationCategory; 5] = [
        RevocationCategory::ObjectionUpheld,
        RevocationCategory::CreditRepair,
        RevocationCategory::RecordCorrected,
        RevocationCategory::RecordWithdrawn,
        RevocationCategory::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RevocationCategory::ObjectionUpheld => "OBJECTION_UPHELD",
            RevocationCategory::CreditRepair => "CREDIT_REPAIR",
            RevocationCategory::RecordCorrected => "RECORD_CORRECTED",
            RevocationCategory::RecordWithdrawn => "RECORD_WITHDRAWN",
            RevocationCategory::Other => "OTHER",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RevocationCategory::ObjectionUpheld => "异议成立",
            RevocationCategory::CreditRepair => "信用修复",
            RevocationCategory::RecordCorrected => "记录更正",
            RevocationCategory::RecordWithdrawn => "记录撤销",
            RevocationCategory::Other => "其他原因",
        }
    }
}

/// What a batch upload did with one item (`results[].status` of
/// `PUT /api/v1/records`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemResult {
    Created,
    Updated,
    Unchanged,
    Rejected,
}

impl ItemResult {
    pub const ALL: [ItemResult; 4] = [
        ItemResult::Created,
        ItemResult::Updated,
        ItemResult::Unchanged,
        ItemResult::Rejected,
    ];

    /// As the API writes it, and the audit entry's outcome.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemResult::Created => "created",
            ItemResult::Updated => "updated",
            ItemResult::Unchanged => "unchanged",
            ItemResult::Rejected => "rejected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ItemResult::Created => "新增",
            ItemResult::Updated => "更新",
            ItemResult::Unchanged => "未变化",
            ItemResult::Rejected => "被拒绝",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire<T: Serialize>(value: T) -> String {
        serde_json::to_value(value)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn codes_are_the_serde_names() {
        for r in ItemResult::ALL {
            assert_eq!(wire(r), r.as_str());
        }
        for k in RecordKind::ALL {
            assert_eq!(wire(k), k.as_str());
            assert_eq!(RecordKind::parse(k.as_str()), Some(k));
        }
        for p in Procedure::ALL {
            assert_eq!(wire(p), p.as_str());
            assert_eq!(Procedure::parse(p.as_str()), Some(p));
        }
        for s in Severity::ALL {
            assert_eq!(wire(s), s.as_str());
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        for c in PenaltyCategory::ALL {
            assert_eq!(wire(c), c.as_str());
            assert_eq!(PenaltyCategory::parse(c.as_str()), Some(c));
            assert_eq!(PenaltyCategory::parse(c.label()), Some(c));
        }
        for m in CoerciveMeasureType::ALL {
            assert_eq!(wire(m), m.as_str());
            assert_eq!(CoerciveMeasureType::parse(m.as_str()), Some(m));
            assert_eq!(CoerciveMeasureType::parse(m.label()), Some(m));
            assert_eq!(CoerciveMeasureType::parse(m.short_label()), Some(m));
        }
        for o in VerificationOutcome::ALL {
            assert_eq!(wire(o), o.code());
        }
        assert_eq!(RecordKind::parse("fine"), None);
        assert_eq!(
            PenaltyCategory::parse(" 罚款 "),
            Some(PenaltyCategory::Fine)
        );
    }

    #[test]
    fn only_inactive_records_carry_a_printed_mark() {
        let marked: Vec<_> = RecordStatus::ALL
            .into_iter()
            .filter_map(RecordStatus::label)
            .collect();
        assert_eq!(marked, ["异议处理中", "已修复", "已撤销"]);
    }
}
