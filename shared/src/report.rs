//! Reports: the application, the immutable snapshot a report is, the
//! verification answers, and the formatted view the PDF prints.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::catalog::{DomainSelection, Purpose, catalog};
use crate::codes::{AuthorisationRef, ReportNo, VerificationCode, hex};
use crate::config::PublicityMaxima;
use crate::error::Error;
use crate::pdf::sign::{PinnedSignature, SignatureFacts};
use crate::pdf::{DomainSection, RecordSection, ReportDocument};
use crate::rules::Finding;
use crate::uscc::CreditCode;
use crate::vocabulary::{ReportEdition, RevocationCategory, VerificationOutcome};
use crate::window::{ReportMonths, Window, china, chinese_date};

/// The issuing authority printed on every report.
pub const ISSUER: &str = "永昌县发展和改革局";

/// A validated `POST /api/v1/reports` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyRequest {
    pub uscc: CreditCode,
    /// The entity's name when the caller knows it (token claim `name`);
    /// otherwise taken from its newest record, else the credit code.
    pub entity_name: Option<String>,
    pub months: ReportMonths,
    pub domains: DomainSelection,
    /// A purpose code of the catalog.
    pub purpose: String,
    /// Set when counter staff apply on the entity's behalf.
    pub on_behalf: Option<OnBehalf>,
}

/// Counter staff applying for an entity: who, under which written
/// authorisation of the entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnBehalf {
    pub staff_sub: String,
    pub authorisation_ref: AuthorisationRef,
}

impl ApplyRequest {
    /// Parses the body `{"months", "domains", "purpose", "uscc" and
    /// "authorisation_ref" (staff only)}` for `principal`: an entity applies
    /// for itself, staff for the named entity under its written
    /// authorisation; other roles are refused.
    pub fn from_json(body: &Value, principal: &Principal) -> Result<ApplyRequest, Error> {
        let obj = body
            .as_object()
            .ok_or_else(|| Error::InvalidJson("请求体应为 JSON 对象".into()))?;
        let requested = match obj.get("uscc").filter(|v| !v.is_null()) {
            None => None,
            Some(Value::String(s)) => {
                Some(s.parse::<CreditCode>().map_err(|e| e.for_field("uscc"))?)
            }
            Some(_) => {
                return Err(Error::InvalidField {
                    field: "uscc".into(),
                    detail: "应为字符串".into(),
                });
            }
        };
        let uscc = principal.applicant(requested)?;
        let months =
            ReportMonths::try_from(obj.get("months").ok_or_else(|| Error::MissingField {
                field: "months".into(),
            })?)?;
        let domains =
            DomainSelection::try_from(obj.get("domains").ok_or_else(|| Error::MissingField {
                field: "domains".into(),
            })?)?;
        catalog().select(&domains)?;
        let purpose = match obj.get("purpose") {
            None | Some(Value::Null) => {
                return Err(Error::MissingField {
                    field: "purpose".into(),
                });
            }
            Some(Value::String(p)) => catalog().require_purpose(p.trim())?.code.clone(),
            Some(other) => return Err(Error::UnknownPurpose(other.to_string())),
        };
        let entity_name = match principal {
            Principal::Entity { name, .. } => name.clone(),
            _ => None,
        };
        let field = AuthorisationRef::FIELD;
        let authorisation_ref = match obj.get(field).filter(|v| !v.is_null()) {
            None => None,
            Some(Value::String(s)) => Some(s.parse::<AuthorisationRef>()?),
            Some(_) => {
                return Err(Error::InvalidField {
                    field: field.into(),
                    detail: "应为字符串".into(),
                });
            }
        };
        let on_behalf = match (principal, authorisation_ref) {
            (Principal::Staff { sub, .. }, Some(authorisation_ref)) => Some(OnBehalf {
                staff_sub: sub.clone(),
                authorisation_ref,
            }),
            (Principal::Staff { .. }, None) => {
                return Err(Error::MissingField {
                    field: field.into(),
                });
            }
            (_, Some(_)) => {
                return Err(Error::InvalidField {
                    field: field.into(),
                    detail: "仅窗口帮办人员代为申请时填写（市场主体的授权委托书编号）".into(),
                });
            }
            (_, None) => None,
        };
        Ok(ApplyRequest {
            uscc,
            entity_name,
            months,
            domains,
            purpose,
            on_behalf,
        })
    }
}

/// The rule switches a report was built under, kept with the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedRules {
    pub include_simplified_procedure: bool,
    pub show_repaired_records: bool,
    pub end_publicity_at_expiry: bool,
    /// The publicity maxima applied under `end_publicity_at_expiry`, for
    /// the notes to state; absent when the rule is off, and on reports
    /// issued before they were kept (their snapshots, and so their
    /// digests, stay as they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publicity_max_months: Option<PublicityMaxima>,
    /// Reports issued before these kinds existed read as included: they
    /// had none to leave out.
    #[serde(default = "included")]
    pub include_coercive_measures: bool,
    #[serde(default = "included")]
    pub include_criminal_judgments: bool,
}

fn included() -> bool {
    true
}

/// An issued report: an immutable snapshot. Serializes as the
/// `POST /api/v1/reports` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub report_no: ReportNo,
    pub verification_code: VerificationCode,
    pub entity_name: String,
    pub uscc: CreditCode,
    pub months: ReportMonths,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Report-domain codes, in catalog order.
    pub domains: Vec<String>,
    /// Purpose code.
    pub purpose: String,
    pub issued_at: DateTime<FixedOffset>,
    pub valid_until: DateTime<FixedOffset>,
    pub clean: bool,
    pub findings: Vec<Finding>,
    /// Who applied: the principal's audit name.
    pub issued_by: String,
    /// The entity's written authorisation (授权委托书编号) counter staff
    /// applied under; absent when the entity applied itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorisation_ref: Option<AuthorisationRef>,
    pub rules: AppliedRules,
    /// Hex SHA-256 of this JSON with `snapshot_digest` empty.
    pub snapshot_digest: String,
}

impl Report {
    /// The edition its purpose gives it (上市版 for the financial-market
    /// purposes): what the PDF's cover and the holder's view say.
    pub fn edition(&self) -> ReportEdition {
        catalog()
            .purpose(&self.purpose)
            .map_or(ReportEdition::General, Purpose::report_edition)
    }

    pub fn window(&self) -> Window {
        Window {
            months: self.months,
            start: self.period_start,
            end: self.period_end,
        }
    }

    pub fn record_count(&self) -> usize {
        self.findings.iter().map(|f| f.records.len()).sum()
    }

    /// The digest over everything but the digest itself.
    pub fn compute_digest(&self) -> Result<String, Error> {
        let mut unsealed = self.clone();
        unsealed.snapshot_digest = String::new();
        let bytes = serde_json::to_vec(&unsealed)
            .map_err(|e| Error::Internal(format!("serialize report {}: {e}", self.report_no)))?;
        Ok(hex(&Sha256::digest(bytes)))
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now > self.valid_until
    }

    pub fn summary(&self) -> ReportSummary {
        ReportSummary {
            report_no: self.report_no.clone(),
            entity_name: self.entity_name.clone(),
            uscc: self.uscc.clone(),
            months: self.months,
            period_start: self.period_start,
            period_end: self.period_end,
            domains: self.domains.clone(),
            purpose: self.purpose.clone(),
            issued_at: self.issued_at,
            valid_until: self.valid_until,
            clean: self.clean,
            record_count: self.record_count(),
        }
    }
}

/// What a verifier learns about an identified report (docs/api.md `report`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub report_no: ReportNo,
    pub entity_name: String,
    pub uscc: CreditCode,
    pub months: ReportMonths,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub domains: Vec<String>,
    pub purpose: String,
    pub issued_at: DateTime<FixedOffset>,
    pub valid_until: DateTime<FixedOffset>,
    pub clean: bool,
    pub record_count: usize,
}

/// A revocation, stored beside the immutable snapshot. The public sees
/// only its time and category; `reason`, in the deciding unit's words, is
/// for the holder and the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub revoked_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub category: RevocationCategory,
    pub reason: String,
}

/// A report's PDF as rendered, with its seal's signature facts when it is
/// sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPdf {
    pub bytes: Vec<u8>,
    pub signature: Option<PinnedSignature>,
}

/// The recorded fingerprint of a report's PDF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PdfFingerprint {
    /// Lower-case hex SHA-256 of the exact bytes.
    pub sha256: String,
    pub size: u64,
    /// Bytes per stored chunk of the issued file; absent on fingerprints
    /// recorded before the bytes were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_bytes: Option<u64>,
    /// The seal's signature facts, read when the file was sealed and
    /// pinned; absent on files pinned before they were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<PinnedSignature>,
}

impl PdfFingerprint {
    /// The fingerprint of `bytes`, no signature facts recorded.
    pub fn of(bytes: &[u8], chunk_bytes: u64) -> PdfFingerprint {
        PdfFingerprint {
            sha256: hex(&Sha256::digest(bytes)),
            size: bytes.len() as u64,
            chunk_bytes: Some(chunk_bytes.max(1)),
            signature: None,
        }
    }

    /// How many chunks hold the bytes (none when they are not kept).
    pub fn chunk_count(&self) -> u64 {
        self.chunk_bytes
            .map_or(0, |chunk| self.size.div_ceil(chunk.max(1)))
    }

    /// Whether both describe the same bytes, however they are stored.
    pub fn same_file(&self, other: &PdfFingerprint) -> bool {
        self.sha256 == other.sha256 && self.size == other.size
    }
}

/// A verification outcome; serializes as `"outcome": "VALID"` etc., with
/// `revoked_at` and `reason` for REVOKED.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Valid,
    Expired,
    /// `reason_code` is the fixed category, `reason` its Chinese label:
    /// never the deciding unit's own words.
    Revoked {
        revoked_at: DateTime<FixedOffset>,
        reason_code: RevocationCategory,
        reason: String,
    },
    /// `appended_update`: the original's bytes are a prefix of the upload,
    /// or its signature no longer covers the whole file (an incremental
    /// update was appended after issue). `signed_by_other`: the file carries
    /// an intact signature, but not this service's seal.
    Tampered {
        appended_update: bool,
        signed_by_other: bool,
    },
    /// The file is a truncated copy of a report issued here: its bytes are
    /// exactly the start of the original, which goes on (a download cut
    /// short). Says nothing about the report's standing.
    Incomplete,
    NotFound,
    Unrecognized,
}

impl Outcome {
    pub fn kind(&self) -> VerificationOutcome {
        match self {
            Outcome::Valid => VerificationOutcome::Valid,
            Outcome::Expired => VerificationOutcome::Expired,
            Outcome::Revoked { .. } => VerificationOutcome::Revoked,
            Outcome::Tampered { .. } => VerificationOutcome::Tampered,
            Outcome::Incomplete => VerificationOutcome::Incomplete,
            Outcome::NotFound => VerificationOutcome::NotFound,
            Outcome::Unrecognized => VerificationOutcome::Unrecognized,
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind().code()
    }
}

/// A determinate verification answer (HTTP 200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Chinese, telling the verifier what to do next.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportSummary>,
}

/// How the verifier reached the report: a code proves that the report was issued here; only a
/// file's bytes prove that the file in hand is the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Code,
    File,
}

impl Verification {
    pub fn new(outcome: Outcome, report: Option<ReportSummary>, channel: Channel) -> Verification {
        let message = message_for(&outcome, report.as_ref(), channel);
        Verification {
            outcome,
            message,
            report,
        }
    }

    /// Classifies an authentic report (found by its code or by the exact
    /// bytes of its PDF): REVOKED before EXPIRED before VALID.
    pub fn of_authentic(
        report: &Report,
        revocation: Option<Revocation>,
        now: DateTime<Utc>,
        channel: Channel,
    ) -> Verification {
        Verification::of_summary(report.summary(), revocation, now, channel)
    }

    /// [`Verification::of_authentic`] from what an answer index keeps: the
    /// summary (with `valid_until`) and the revocation.
    pub fn of_summary(
        summary: ReportSummary,
        revocation: Option<Revocation>,
        now: DateTime<Utc>,
        channel: Channel,
    ) -> Verification {
        let outcome = match revocation {
            Some(r) => Outcome::Revoked {
                revoked_at: r.revoked_at,
                reason_code: r.category,
                reason: r.category.label().to_owned(),
            },
            None if now > summary.valid_until => Outcome::Expired,
            None => Outcome::Valid,
        };
        Verification::new(outcome, Some(summary), channel)
    }

    /// A truncated copy of the report numbered `report_no`: the message names
    /// it, its summary is withheld (the first bytes of a file prove nothing
    /// about the report's standing; its code does).
    pub fn incomplete(report_no: &ReportNo) -> Verification {
        Verification {
            outcome: Outcome::Incomplete,
            message: incomplete_message(&format!("（报告编号 {report_no}）")),
            report: None,
        }
    }

    /// Marks a TAMPERED answer as an appended incremental update, with the
    /// message saying so.
    pub fn mark_appended_update(&mut self) {
        if let Outcome::Tampered {
            appended_update, ..
        } = &mut self.outcome
        {
            *appended_update = true;
            self.message = message_for(&self.outcome, self.report.as_ref(), Channel::File);
        }
    }

    /// Marks a TAMPERED answer as re-signed by someone else, with the
    /// message saying so.
    pub fn mark_signed_by_other(&mut self) {
        if let Outcome::Tampered {
            signed_by_other, ..
        } = &mut self.outcome
        {
            *signed_by_other = true;
            self.message = message_for(&self.outcome, self.report.as_ref(), Channel::File);
        }
    }
}

/// What was checked of an uploaded file (docs/api.md `file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    pub sha256: String,
    pub size: u64,
    pub matches_original: bool,
}

/// The answer to `POST /api/v1/verify/file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileVerification {
    #[serde(flatten)]
    pub verification: Verification,
    pub file: FileFacts,
    /// The file's signature (电子签章), checked against the published chain;
    /// filled in by [`crate::usecase::verification::verify_upload`].
    pub signature: SignatureFacts,
    /// The report the file names when only its (public) number matched: its
    /// summary is then withheld, as the number alone proves nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_report_no: Option<ReportNo>,
}

/// What an uploaded PDF says it is (found by the inspector in Info, XMP or
/// page text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileClaim {
    ReportNo(ReportNo),
    Code(VerificationCode),
}

fn datetime(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&china())
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

fn incomplete_message(no: &str) -> String {
    format!(
        "该文件是本平台出具的报告{no}的不完整副本：内容与原件开头一致，但文件不全，可能是下载中断所致，无法据此核验。请重新下载完整的报告文件后再上传核验，或以报告封面右上方的核验码核验。"
    )
}

fn message_for(outcome: &Outcome, report: Option<&ReportSummary>, channel: Channel) -> String {
    let no = report
        .map(|r| format!("（报告编号 {}）", r.report_no))
        .unwrap_or_default();
    match outcome {
        Outcome::Valid => {
            let until = report.map(|r| datetime(&r.valid_until)).unwrap_or_default();
            match channel {
                Channel::Code => format!(
                    "核验通过：本平台出具过该报告{no}，在有效期内（至{until}）。核验码只证明报告由本平台出具，不能证明所持文件未被改动：请核对所持报告的主体名称、统一社会信用代码、报告期间、查询领域和记录情况与下方摘要一致，且与所办事项相符后采信；也可上传报告 PDF 与原件比对。"
                ),
                Channel::File => format!(
                    "核验通过：该文件与本平台出具的报告{no}原件完全一致，在有效期内（至{until}）。请核对报告上的主体名称、统一社会信用代码与所办事项一致后采信。"
                ),
            }
        }
        Outcome::Expired => format!(
            "该报告{no}真实，但已于{}超过有效期，不能再替代无违法违规记录证明。请联系申请主体重新申请专用信用报告。",
            report.map(|r| datetime(&r.valid_until)).unwrap_or_default()
        ),
        Outcome::Revoked { revoked_at, reason, .. } => format!(
            "该报告{no}真实，但已于{}被撤销，原因：{reason}。报告所载信息已不再准确，请勿采信，请联系申请主体重新申请专用信用报告。",
            datetime(revoked_at)
        ),
        Outcome::Tampered { signed_by_other: true, .. } => format!(
            "该文件声称是本平台出具的报告{no}，但其电子签章不是本平台的签章（由其他签章者签署），内容可能已被篡改。请勿采信，请向申请主体索取原件，或以报告封面右上方的核验码核验。"
        ),
        Outcome::Tampered { appended_update: true, .. } => format!(
            "该文件声称是本平台出具的报告{no}，原件之后被追加了修改（PDF 增量更新），电子签章已不覆盖整个文件，显示的内容可能已被篡改。请勿采信，请向申请主体索取原件，或以报告封面右上方的核验码核验。"
        ),
        Outcome::Tampered { .. } => format!(
            "该文件声称是本平台出具的报告{no}，但与原件不一致，内容可能已被篡改。请勿采信，请向申请主体索取原件，或以报告封面右上方的核验码核验。"
        ),
        Outcome::Incomplete => incomplete_message(&no),
        Outcome::NotFound => "没有与该核验码对应的报告。请核对核验码（区分大小写，不含 0、O、1、l 等易混淆字符）后重试，或上传报告 PDF 原件进行文件比对；仍无法核验的，请勿采信。".into(),
        Outcome::Unrecognized => "该 PDF 不是本平台出具的专用信用报告，无法核验。请向申请主体索取本平台出具的报告电子版原件，或以报告封面右上方的核验码核验。".into(),
    }
}

/// What the report says about the two kinds 565号 added, as its switches
/// were when it was issued.
fn added_kinds_note(rules: &AppliedRules) -> String {
    let coercive = if rules.include_coercive_measures {
        "行政强制措施（报告期间内决定、出具日尚未解除的）列入本报告"
    } else {
        "行政强制措施不列入本报告"
    };
    let criminal = if rules.include_criminal_judgments {
        "报告期间内生效的刑事裁判列入本报告"
    } else {
        "刑事裁判不列入本报告"
    };
    format!("{coercive}；{criminal}。")
}

/// What the report says about penalties whose publicity has ended, as the
/// rule (`end_publicity_at_expiry`, [`crate::rules::counts`]) was when it was
/// issued: they are left out even when decided inside the period.
fn publicity_note(rules: &AppliedRules) -> Option<String> {
    if !rules.end_publicity_at_expiry {
        return None;
    }
    let periods = match rules.publicity_max_months {
        Some(m) => format!(
            "：轻微的{}，一般的{}，严重的{}，未标明程度的按其中最长的{}计",
            months_in_words(m.minor),
            months_in_words(m.general),
            months_in_words(m.serious),
            months_in_words(m.months(None)),
        ),
        None => String::new(),
    };
    Some(format!(
        "公示期已届满的行政处罚不在本报告中展示，即使其在报告期间内作出。公示期以数据来源单位报送的公示截止期为准；未报送的，按《信用修复管理办法》（国家发展改革委令2025年第36号）规定的最长公示期自处罚决定日期起计算{periods}。"
    ))
}

/// "3个月", "1年", "18个月".
fn months_in_words(months: u32) -> String {
    if months.is_multiple_of(12) {
        format!("{}年", months / 12)
    } else {
        format!("{months}个月")
    }
}

/// The formatted view the PDF renders. `public_base_url` without a
/// trailing slash, e.g. `http://127.0.0.1:3000`.
pub fn report_document(report: &Report, public_base_url: &str) -> ReportDocument {
    let cat = catalog();
    let purpose = cat.purpose(&report.purpose);
    let window = report.window();
    let valid_days = (report.valid_until - report.issued_at).num_days();
    let base = public_base_url.trim_end_matches('/');
    let mut notes = vec![
        "本报告依据《永昌县推行以专用信用报告替代无违法违规记录证明暨企业上市合法合规信息核查实施方案》（永发改字〔2024〕62号）出具，可替代所选领域的无违法违规记录证明。".to_owned(),
        format!("报告期间为{}，信用信息自2021年1月1日起归集。", window.describe()),
        if report.rules.include_simplified_procedure {
            "依据简易程序作出的行政处罚列入本报告；依法不予行政处罚的，不列入违法记录。".to_owned()
        } else {
            "依据简易程序作出的行政处罚和依法不予行政处罚的，不列入违法记录。".to_owned()
        },
        added_kinds_note(&report.rules),
    ];
    notes.extend(publicity_note(&report.rules));
    notes.push(if report.rules.show_repaired_records {
        "已完成信用修复的记录标注“已修复”；标注“异议处理中”的记录正在异议处理中。".to_owned()
    } else {
        "已完成信用修复的记录不在本报告中展示；标注“异议处理中”的记录正在异议处理中。".to_owned()
    });
    let without_data: Vec<&str> = report
        .domains
        .iter()
        .filter_map(|d| cat.report_domain(d))
        .filter(|d| !d.is_collected())
        .map(|d| d.name.as_str())
        .collect();
    if !without_data.is_empty() {
        notes.push(format!(
            "{}领域尚未列入数据归集责任清单（附件1），暂无归集数据，本报告未在该领域查询，查询结果标注为“暂无归集数据”，不表明在该领域无违法违规记录。",
            without_data.join("、")
        ));
    }
    notes.push(format!(
        "本报告自出具之日起{valid_days}日内有效（至{}）。可扫描二维码或登录 {base} 输入封面右上方的核验码（区分大小写）核验真伪，也可上传本报告电子版原件进行文件比对。",
        chinese_date(report.valid_until.date_naive())
    ));
    ReportDocument {
        report_no: report.report_no.to_string(),
        verification_code: report.verification_code.to_string(),
        title: "专用信用报告".into(),
        edition: report.edition().label().into(),
        entity_name: report.entity_name.clone(),
        uscc: report.uscc.to_string(),
        period: window.describe(),
        purpose: purpose
            .map(|p| p.label())
            .unwrap_or_else(|| report.purpose.clone()),
        issued_on: chinese_date(report.issued_at.date_naive()),
        valid_until: chinese_date(report.valid_until.date_naive()),
        issuer: ISSUER.into(),
        // In the fragment, which browsers do not send: the secret code stays
        // out of server, proxy and referrer logs.
        verify_url: format!("{base}/#code={}", report.verification_code),
        snapshot_digest: report.snapshot_digest.clone(),
        notes,
        domains: report
            .findings
            .iter()
            .map(|f| DomainSection {
                name: f.name.clone(),
                unit: f.unit.clone(),
                // Read from the catalog when rendering, as the notes are:
                // the snapshot does not keep it.
                collected: cat
                    .report_domain(&f.domain)
                    .is_some_and(|d| d.is_collected()),
                records: f
                    .records
                    .iter()
                    .map(|r| RecordSection {
                        kind: r.record.kind().label().into(),
                        document_no: r.record.common().document_no.clone(),
                        status_label: r.status_label.clone(),
                        fields: r.record.print_fields(),
                    })
                    .collect(),
            })
            .collect(),
    }
}
