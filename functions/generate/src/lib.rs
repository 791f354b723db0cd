//! Report PDF download: `GET /api/v1/reports/{report_no}/pdf`.
//!
//! The first download renders the stored snapshot, seals it with the
//! issuing body's key (secret variables `seal_private_key_pem`,
//! `seal_certificate_chain_pem`) and pins the file: its bytes and then its
//! SHA-256 and size go to the key-value store. Every later
//! download serves those stored bytes, so a changed renderer, font or
//! public_base_url never alters an issued report, and file verification
//! compares hashes without rendering (docs/decisions.md).

use credit_core::config::seal_image_png;
use credit_core::pdf::sign::Seal;
use credit_core::usecase::reports;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use platform::{Answer, caller, param, store};
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::http_component;

const ROUTE: &str = "/api/v1/reports/:report_no/pdf";

#[http_component]
fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.get(ROUTE, download);
    router.head(ROUTE, download);
    platform::refuse_the_rest(&mut router, &[(ROUTE, "GET, HEAD")]);
    platform::handle_with_head(&router, req)
}

fn download(req: Request, params: Params) -> Answer {
    let settings = platform::settings()?;
    let caller = caller(&req, &settings)?;
    let pdf = reports::download(
        &store()?,
        &caller,
        param(&params, "report_no"),
        &settings.public_base_url,
        || {
            Seal::from_variables(platform::variable, settings.auth.development)?
                .with_image(seal_image_png(platform::variable)?.as_deref())
        },
    )?;
    if let Some(problem) = &pdf.problem {
        eprintln!(
            "ISSUED PDF NOT SERVED AS PINNED for {}: {problem}",
            pdf.report_no
        );
    }
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/pdf")
        .header(
            "content-disposition",
            content_disposition(pdf.report_no.as_str()),
        )
        .header("etag", format!("\"{}\"", pdf.sha256))
        .header("cache-control", "private, no-store")
        .header("x-content-type-options", "nosniff")
        .body(pdf.bytes)
        .build())
}

/// RFC 5987 `attr-char`s stay as they are; everything else is encoded.
const ATTR_CHAR_ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment` with an ASCII fallback name and the Chinese name in RFC 5987
/// form (`filename*=UTF-8''…`), which every current browser prefers.
fn content_disposition(report_no: &str) -> String {
    let chinese = format!("专用信用报告-{report_no}.pdf");
    format!(
        "attachment; filename=\"credit-report-{report_no}.pdf\"; filename*=UTF-8''{}",
        utf8_percent_encode(&chinese, ATTR_CHAR_ENCODED)
    )
}
