//! Report application: `POST /api/v1/reports`, `GET /api/v1/reports?uscc=`,
//! `GET /api/v1/reports/{report_no}`. (`…/{report_no}/pdf` is the generate
//! component's.)

use chrono::{DateTime, Utc};
use credit_core::audit::{self, AuditEntry};
use credit_core::auth::{Principal, Role};
use credit_core::codes::ReportNo;
use credit_core::error::Error;
use credit_core::kv::KeyValue;
use credit_core::report::{ApplyRequest, Report};
use credit_core::store::Store;
use credit_core::uscc::{CreditCode, UsccError};
use serde_json::{Value, json};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

/// An application is a few short fields.
const MAX_BODY_BYTES: usize = 64 * 1024;

#[http_component]
fn handle(req: Request) -> Response {
    platform::respond(|| {
        let now = platform::now();
        let info = platform::path_info(&req);
        let report_no = info.trim_matches('/');
        match (req.method(), report_no.is_empty()) {
            (Method::Post, true) => apply(&req, now),
            (Method::Get, true) => list(&req, now),
            (Method::Get, false) => show(&req, report_no, now),
            (_, true) => Err(Error::MethodNotAllowed {
                allowed: "GET, POST".into(),
            }),
            (_, false) => Err(Error::MethodNotAllowed {
                allowed: "GET".into(),
            }),
        }
    })
}

fn location(no: &ReportNo) -> String {
    format!("/api/v1/reports/{no}")
}

/// The report as docs/api.md documents it, plus where it stands and its PDF.
fn document(kv: &impl KeyValue, report: &Report) -> Result<Value, Error> {
    let revocation = Store::new(kv).report_status(&report.report_no)?;
    let mut body = serde_json::to_value(report)
        .map_err(|e| Error::Internal(format!("serialize report: {e}")))?;
    body["record_count"] = json!(report.record_count());
    body["revocation"] = json!(revocation);
    body["pdf_url"] = json!(format!("{}/pdf", location(&report.report_no)));
    Ok(body)
}

fn apply(req: &Request, now: DateTime<Utc>) -> Result<Response, Error> {
    let principal = platform::principal(req, now)?;
    principal.require(&[Role::Entity, Role::Staff])?;
    platform::body_within(req, MAX_BODY_BYTES)?;
    let body: Value = platform::json_body(req)?;
    let application = ApplyRequest::from_json(&body, &principal)?;
    let rules = platform::rules()?;
    let kv = platform::store()?;
    let entry = |outcome: &str| {
        let entry = AuditEntry::new(Some(&principal), "report.issue", outcome, now)
            .client(platform::client_addr(req));
        match principal {
            Principal::Staff { .. } => entry.on_behalf_of(&application.uscc),
            _ => entry,
        }
    };
    let issued = Store::new(&kv).issue_report(&application, &principal.audit_name(), now, &rules);
    let report = match issued {
        Ok(report) => report,
        Err(error) => {
            audit::append(&kv, &entry(error.code()).target(&application.uscc))?;
            return Err(error);
        }
    };
    audit::append(
        &kv,
        &entry("created").target(&report.report_no).details(json!({
            "uscc": report.uscc,
            "months": report.months,
            "domains": report.domains,
            "purpose": report.purpose,
            "clean": report.clean,
            "record_count": report.record_count(),
        })),
    )?;
    let mut response = platform::json(201, &document(&kv, &report)?);
    response.set_header("location", location(&report.report_no));
    Ok(response)
}

fn show(req: &Request, report_no: &str, now: DateTime<Utc>) -> Result<Response, Error> {
    let principal = platform::principal(req, now)?;
    principal.require(&[Role::Entity, Role::Staff])?;
    let no: ReportNo = report_no.parse()?;
    let kv = platform::store()?;
    let report = Store::new(&kv)
        .get_report(&no)?
        .ok_or_else(|| Error::NotFound(format!("没有编号为 {no} 的报告")))?;
    if !principal.can_read_report(&report.uscc) {
        return Err(Error::Forbidden(
            "只能查看本主体的报告（窗口帮办人员可代为查看）".into(),
        ));
    }
    Ok(platform::json(200, &document(&kv, &report)?))
}

/// An entity's reports, newest first, as summaries.
fn list(req: &Request, now: DateTime<Utc>) -> Result<Response, Error> {
    let principal = platform::principal(req, now)?;
    principal.require(&[Role::Entity, Role::Staff])?;
    let requested = platform::query_param(req, "uscc")
        .map(|code| {
            code.trim()
                .parse::<CreditCode>()
                .map_err(|e: UsccError| e.for_field("uscc"))
        })
        .transpose()?;
    let uscc = principal
        .applicant(requested)
        .map_err(|error| match error {
            Error::Forbidden(_) => Error::Forbidden("只能查看本主体的报告".into()),
            other => other,
        })?;
    let kv = platform::store()?;
    let store = Store::new(&kv);
    let mut reports = Vec::new();
    for no in store.reports_of(&uscc)?.into_iter().rev() {
        if let Some(report) = store.get_report(&no)? {
            let mut summary = serde_json::to_value(report.summary())
                .map_err(|e| Error::Internal(format!("serialize summary: {e}")))?;
            summary["revocation"] = json!(store.report_status(&no)?);
            summary["pdf_url"] = json!(format!("{}/pdf", location(&no)));
            reports.push(summary);
        }
    }
    Ok(platform::json(
        200,
        &json!({"uscc": uscc, "count": reports.len(), "reports": reports}),
    ))
}
