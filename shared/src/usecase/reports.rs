//! Report application and what its holder reads: `POST /api/v1/reports`,
//! one report, an entity's reports, and the report's PDF.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit;
use crate::auth::Role;
use crate::codes::{AuthorisationRef, ReportNo, hex};
use crate::config::RuleConfig;
use crate::error::Error;
use crate::kv::KeyValue;
use crate::paging::{Cursor, PageRequest};
use crate::pdf::sign::{CERTIFICATES_PATH, Seal};
use crate::pdf::{self, Sealing};
use crate::report::{
    ApplyRequest, RenderedPdf, Report, ReportSummary, Revocation, report_document,
};
use crate::store::{Mandate, Store};
use crate::uscc::CreditCode;
use crate::vocabulary::ReportEdition;

use super::Caller;

/// Where a report is read.
pub fn location(report_no: &ReportNo) -> String {
    format!("/api/v1/reports/{report_no}")
}

fn pdf_url(report_no: &ReportNo) -> String {
    format!("{}/pdf", location(report_no))
}

/// A report as its holder reads it: the snapshot, where it stands, its PDF.
#[derive(Debug, Serialize)]
pub struct ReportView {
    #[serde(flatten)]
    pub report: Report,
    /// The edition the PDF's cover names.
    pub edition: ReportEdition,
    pub record_count: usize,
    pub revocation: Option<Revocation>,
    pub pdf_url: String,
}

impl ReportView {
    fn new(report: Report, revocation: Option<Revocation>) -> Self {
        ReportView {
            edition: report.edition(),
            record_count: report.record_count(),
            pdf_url: pdf_url(&report.report_no),
            report,
            revocation,
        }
    }
}

/// One line of an entity's report list.
#[derive(Debug, Serialize)]
pub struct ReportListItem {
    #[serde(flatten)]
    pub summary: ReportSummary,
    pub revocation: Option<Revocation>,
    pub pdf_url: String,
    /// The entity's written authorisation, when counter staff applied for
    /// it: the entity sees who applied in its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorisation_ref: Option<AuthorisationRef>,
}

/// One page of an entity's reports.
#[derive(Debug, Serialize)]
pub struct ReportList {
    pub uscc: CreditCode,
    /// Reports on this page.
    pub count: usize,
    pub reports: Vec<ReportListItem>,
    /// Where the next page starts; `null` on the last.
    pub next_cursor: Option<Cursor>,
}

/// Issues a report to an entity, or to counter staff acting for the
/// entity the body names under its written authorisation: staff then act
/// for the entity (may read its reports, records and cases) for
/// `staff_mandate_days`. Refusals are audited as well as issues.
pub fn apply(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    body: &serde_json::Value,
    rules: &RuleConfig,
) -> Result<ReportView, Error> {
    caller.principal.require(&[Role::Entity, Role::Staff])?;
    let application = ApplyRequest::from_json(body, &caller.principal)?;
    let issued = Store::new(kv).issue_report(
        &application,
        &caller.principal.audit_name(),
        caller.now,
        rules,
    );
    let report = match issued {
        Ok(report) => report,
        Err(error) => {
            let entry = caller
                .entry_about(&application.uscc, "report.issue", error.code())
                .target(&application.uscc);
            audit::append(kv, &entry)?;
            return Err(error);
        }
    };
    let entry = caller
        .entry_about(&application.uscc, "report.issue", "created")
        .target(&report.report_no)
        .details(json!({
            "uscc": report.uscc,
            "months": report.months,
            "domains": report.domains,
            "purpose": report.purpose,
            "clean": report.clean,
            "record_count": report.record_count(),
            "authorisation_ref": report.authorisation_ref,
        }));
    audit::append(kv, &entry)?;
    Store::new(kv).tally_usage(caller.now, |t| {
        t.add_report(
            &report.purpose,
            report.record_count() > 0,
            report.domains.len(),
        )
    })?;
    if let Some(staff) = &application.on_behalf {
        let mandate = Mandate::new(
            report.report_no.as_str(),
            Some(staff.authorisation_ref.clone()),
            caller.now,
            rules.staff_mandate_days,
        );
        Store::new(kv).grant_mandate(&staff.staff_sub, &report.uscc, &mandate)?;
    }
    Ok(ReportView::new(report, None))
}

/// One report, for its owner and counter staff acting for the owner; the
/// read is audited.
pub fn report(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    report_no: &str,
) -> Result<ReportView, Error> {
    let report = audit_refusal(
        kv,
        caller,
        "report.read",
        report_no,
        readable_report(kv, caller, report_no),
    )?;
    let revocation = Store::new(kv).report_status(&report.report_no)?;
    let entry = caller
        .entry_about(&report.uscc, "report.read", "read")
        .target(&report.report_no);
    audit::append(kv, &entry)?;
    Ok(ReportView::new(report, revocation))
}

/// A page of an entity's reports, newest first.
pub fn reports_of(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    requested: Option<CreditCode>,
    page: &PageRequest,
) -> Result<ReportList, Error> {
    caller.principal.require(&[Role::Entity, Role::Staff])?;
    let uscc = caller
        .principal
        .applicant(requested)
        .map_err(|error| match error {
            Error::Forbidden(_) => Error::Forbidden("只能查看本主体的报告".into()),
            other => other,
        })?;
    caller.require_acting_for(kv, &uscc)?;
    let store = Store::new(kv);
    let numbers = store.reports_page(&uscc, page)?;
    let reports: Vec<ReportListItem> = store
        .reports_with_status(&numbers.items)?
        .into_iter()
        .map(|(report, revocation)| ReportListItem {
            pdf_url: pdf_url(&report.report_no),
            summary: report.summary(),
            revocation,
            authorisation_ref: report.authorisation_ref,
        })
        .collect();
    audit::append(
        kv,
        &caller
            .entry_about(&uscc, "reports.list", "listed")
            .target(&uscc),
    )?;
    Ok(ReportList {
        uscc,
        count: reports.len(),
        reports,
        next_cursor: numbers.next,
    })
}

/// A report's PDF as issued.
#[derive(Debug)]
pub struct Download {
    pub report_no: ReportNo,
    pub bytes: Vec<u8>,
    pub sha256: String,
    /// Set when the pinned file could not be served as pinned: for the
    /// operator's log (docs/decisions.md).
    pub problem: Option<String>,
}

/// The report's PDF, for its owner and counter staff: rendered, sealed and
/// pinned at the first download, served as pinned afterwards. `seal` is
/// asked for only when the file is rendered, so issued files are served
/// whatever becomes of the key.
pub fn download(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    report_no: &str,
    public_base_url: &str,
    seal: impl Fn() -> Result<Seal, Error>,
) -> Result<Download, Error> {
    let report = audit_refusal(
        kv,
        caller,
        "report.pdf",
        report_no,
        readable_report(kv, caller, report_no),
    )?;
    let report_no = report.report_no.clone();
    let pdf = Store::new(kv).issued_pdf(&report_no, || {
        sealed_rendering(&report, public_base_url, &seal()?)
    })?;
    let sha256 = hex(&Sha256::digest(&pdf.bytes));
    let entry = caller
        .entry_about(&report.uscc, "report.pdf", "downloaded")
        .target(&report_no)
        .details(json!({ "sha256": sha256, "size": pdf.bytes.len() }));
    audit::append(kv, &entry)?;
    Ok(Download {
        report_no,
        bytes: pdf.bytes,
        sha256,
        problem: pdf.problem,
    })
}

/// The report's PDF as first issued: rendered and sealed with the issue
/// time as the signing time. The same bytes for the same report and key,
/// natively and in wasm.
pub fn sealed_pdf(report: &Report, public_base_url: &str, seal: &Seal) -> Result<Vec<u8>, Error> {
    let sealing = Sealing {
        seal,
        signed_at: report.issued_at,
        certificates_url: format!(
            "{}{CERTIFICATES_PATH}",
            public_base_url.trim_end_matches('/')
        ),
    };
    pdf::render_sealed(&report_document(report, public_base_url), &sealing)
        .map_err(|e| Error::Internal(format!("rendering {}: {e}", report.report_no)))
}

/// [`sealed_pdf`] with its signature facts, as it is pinned.
pub fn sealed_rendering(
    report: &Report,
    public_base_url: &str,
    seal: &Seal,
) -> Result<RenderedPdf, Error> {
    let bytes = sealed_pdf(report, public_base_url, seal)?;
    Ok(RenderedPdf {
        signature: Some(seal.pinned_signature(&bytes)),
        bytes,
    })
}

/// A signed-in caller's refused read is audited too, its target the report
/// number once it parsed: asking for reports one may not read (counter
/// staff for entities they do not act for) leaves a trace.
fn audit_refusal(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    action: &str,
    report_no: &str,
    read: Result<Report, Error>,
) -> Result<Report, Error> {
    read.or_else(|error| {
        let mut entry = caller.entry(action, error.code());
        if let Ok(no) = report_no.parse::<ReportNo>() {
            entry = entry.target(&no);
        }
        audit::append(kv, &entry)?;
        Err(error)
    })
}

/// The report, for its owner and counter staff acting for the owner. A
/// report the caller may not read answers as one that does not exist:
/// report numbers are sequential, and a refusal would confirm that one was
/// issued.
fn readable_report(
    kv: &(impl KeyValue + ?Sized),
    caller: &Caller,
    report_no: &str,
) -> Result<Report, Error> {
    caller.principal.require(&[Role::Entity, Role::Staff])?;
    let no: ReportNo = report_no.parse()?;
    match Store::new(kv).get_report(&no)? {
        Some(report) if caller.acts_for(kv, &report.uscc)? => Ok(report),
        _ => Err(Error::NotFound(format!("没有编号为 {no} 的报告"))),
    }
}
