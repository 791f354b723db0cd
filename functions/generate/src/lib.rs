//! Report PDF generation: GET /api/v1/reports/{report_no}/pdf.
//!
//! The first download renders the stored snapshot and pins the file: its
//! bytes and then its SHA-256 and size go to the key-value store. Every later
//! download serves those stored bytes, so a changed renderer, font or
//! public_base_url never alters an issued report, and file verification
//! compares hashes without rendering (docs/decisions.md).

use credit_core::audit::{self, AuditEntry};
use credit_core::auth::Principal;
use credit_core::codes::{ReportNo, hex};
use credit_core::error::Error;
use credit_core::pdf;
use credit_core::report::report_document;
use credit_core::store::Store;
use sha2::{Digest, Sha256};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

const DEFAULT_PUBLIC_BASE_URL: &str = "http://127.0.0.1:3000";

#[http_component]
fn handle(req: Request) -> Response {
    platform::respond(|| download(&req))
}

fn download(req: &Request) -> Result<Response, Error> {
    if !matches!(req.method(), Method::Get | Method::Head) {
        return Err(Error::MethodNotAllowed {
            allowed: "GET".into(),
        });
    }
    let now = platform::now();
    let principal = platform::principal(req, now)?;
    let report_no: ReportNo = report_no_of(req).parse()?;
    let kv = platform::store()?;
    let store = Store::new(&kv);
    let report = store
        .get_report(&report_no)?
        .ok_or_else(|| Error::NotFound(format!("没有编号为 {report_no} 的报告")))?;
    if !principal.can_read_report(&report.uscc) {
        return Err(Error::Forbidden(
            "只有报告所属主体或窗口帮办人员可以下载该报告".into(),
        ));
    }
    let pdf = store.issued_pdf(&report_no, || {
        let base_url = public_base_url()?;
        pdf::render(&report_document(&report, &base_url))
            .map_err(|e| Error::Internal(format!("rendering {report_no}: {e}")))
    })?;
    if let Some(problem) = &pdf.problem {
        eprintln!("ISSUED PDF NOT SERVED AS PINNED for {report_no}: {problem}");
    }
    let sha256 = hex(&Sha256::digest(&pdf.bytes));
    let size = pdf.bytes.len() as u64;
    let mut entry = AuditEntry::new(Some(&principal), "report.pdf", "downloaded", now)
        .target(&report_no)
        .client(platform::client_addr(req))
        .details(serde_json::json!({ "sha256": sha256, "size": size }));
    if matches!(principal, Principal::Staff { .. }) {
        entry = entry.on_behalf_of(&report.uscc);
    }
    audit::append(&kv, &entry)?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/pdf")
        .header("content-disposition", content_disposition(&report_no))
        .header("etag", format!("\"{sha256}\""))
        .header("cache-control", "private, no-store")
        .header("x-content-type-options", "nosniff")
        .body(if *req.method() == Method::Head {
            Vec::new()
        } else {
            pdf.bytes
        })
        .build())
}

/// The `:report_no` route parameter, or the path segment before `/pdf` when
/// the host did not pass it.
fn report_no_of(req: &Request) -> String {
    platform::path_param(req, "report-no").unwrap_or_else(|| {
        req.path()
            .trim_end_matches("/pdf")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    })
}

fn public_base_url() -> Result<String, Error> {
    let value = platform::variable("public_base_url")
        .map(|v| v.trim().trim_end_matches('/').to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_PUBLIC_BASE_URL.to_owned());
    if value.starts_with("http://") || value.starts_with("https://") {
        Ok(value)
    } else {
        Err(Error::InvalidConfig {
            variable: "public_base_url".into(),
            detail: format!("“{value}”应以 http:// 或 https:// 开头"),
        })
    }
}

/// `attachment` with an ASCII fallback name and the Chinese name in RFC 5987
/// form (`filename*=UTF-8''…`), which every current browser prefers.
fn content_disposition(report_no: &ReportNo) -> String {
    let ascii = format!("credit-report-{report_no}.pdf");
    let chinese = format!("专用信用报告-{report_no}.pdf");
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        rfc5987_encode(&chinese)
    )
}

fn rfc5987_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'!'
            | b'#'
            | b'$'
            | b'&'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
