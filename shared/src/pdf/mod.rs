//! The report PDF: a deterministic rendering of a [`ReportDocument`].
//!
//! The document is a print-ready view of a report snapshot: every value is
//! already formatted for people (Chinese labels, dates as YYYY年MM月DD日 or
//! YYYY-MM-DD), so the layout code makes no domain decisions.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

mod flate;
mod font;
mod image;
mod layout;
mod line_break;
pub mod sample;
pub mod sign;
mod write;

pub use image::SealImage;
use sign::Seal;

/// Info dictionary keys (and XMP property names) naming the report a file claims to be.
pub const INFO_REPORT_NO: &str = "ReportNo";
pub const INFO_CODE: &str = "VerificationCode";
pub const INFO_DIGEST: &str = "SnapshotDigest";
/// Namespace of the report properties in the XMP packet.
pub const XMP_NAMESPACE: &str = "urn:x-credit-report:1.0#";
pub const XMP_PREFIX: &str = "report";
/// Printed before the report number and the verification code, on the cover
/// and in every footer; [`crate::inspect`] finds the visible values after them.
pub const REPORT_NO_LABEL: &str = "报告编号";
pub const CODE_LABEL: &str = "核验码";
/// What reports issued before December 2026 print instead: their pinned
/// files still name their code by it.
pub const CODE_LABEL_BEFORE_2026_12: &str = "验证码";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("embedded font unusable: {0}")]
    Font(String),
    #[error("verification link does not fit a QR code: {0}")]
    QrCode(String),
    #[error("writing the PDF failed: {0}")]
    Write(String),
}

/// Renders the official report: A4, Chinese text in an embedded subset of
/// WenQuanYi Micro Hei, and the same bytes for the same document on every
/// platform.
pub fn render(document: &ReportDocument) -> Result<Vec<u8>, RenderError> {
    let fonts = font::Fonts::load()?;
    let pages = layout::lay_out(document, None, &fonts)?;
    write::assemble(document, &pages, &fonts, None)
}

/// [`render`], sealed: the cover shows the signature block and the file
/// carries the issuing body's signature ([`sign`]). Deterministic too.
pub fn render_sealed(document: &ReportDocument, sealing: &Sealing) -> Result<Vec<u8>, RenderError> {
    let fonts = font::Fonts::load()?;
    let pages = layout::lay_out(document, Some(sealing), &fonts)?;
    write::assemble(document, &pages, &fonts, Some(sealing))
}

/// How a report is sealed.
#[derive(Debug)]
pub struct Sealing<'s> {
    pub seal: &'s Seal,
    /// The report's issue time: the signing time the signature states.
    pub signed_at: DateTime<FixedOffset>,
    /// Where the certificate chain is published, printed under the seal.
    pub certificates_url: String,
}

/// Everything printed on a report, already formatted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDocument {
    /// e.g. "YC-20261129-000123"
    pub report_no: String,
    /// The case-sensitive verification code, printed boxed at the top right of the cover.
    pub verification_code: String,
    /// "专用信用报告"
    pub title: String,
    /// e.g. "上市版" (listing/financing purposes) or "通用版"
    pub edition: String,
    pub entity_name: String,
    /// 统一社会信用代码
    pub uscc: String,
    /// e.g. "2025年11月30日至2026年11月29日（近12个月）"
    pub period: String,
    /// e.g. "金融市场应用·企业上市"
    pub purpose: String,
    /// e.g. "2026年11月29日"
    pub issued_on: String,
    /// e.g. "2026年12月29日"
    pub valid_until: String,
    /// e.g. "永昌县发展和改革局"
    pub issuer: String,
    /// Verification page link encoded in the QR code, with the code filled in.
    pub verify_url: String,
    /// Hex SHA-256 of the stored snapshot; written to Info and XMP metadata.
    pub snapshot_digest: String,
    /// Paragraphs of the 报告说明 page.
    pub notes: Vec<String>,
    /// One entry per chosen report domain, in catalog order.
    pub domains: Vec<DomainSection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSection {
    /// e.g. "税务"
    pub name: String,
    /// e.g. "县税务局"
    pub unit: String,
    /// Whether any data is collected for the domain; when not, the domain
    /// was not looked up and prints 暂无归集数据, never 无违法违规记录.
    pub collected: bool,
    /// Records that count in this domain; empty (and collected) means
    /// 无违法违规记录.
    pub records: Vec<RecordSection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSection {
    /// e.g. "行政处罚", "严重失信主体名单", "经营异常名录"
    pub kind: String,
    pub document_no: String,
    /// e.g. Some("异议处理中") or Some("已修复")
    pub status_label: Option<String>,
    /// The record's fields in print order: (label, value), e.g. ("违法事实", "…").
    pub fields: Vec<(String, String)>,
}
