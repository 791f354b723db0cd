//! The report PDF through the generate component: access, headers, text a
//! reader extracts (poppler, no CJK font needed), byte-identical downloads
//! equal to the native rendering, and a valid 200-record file (qpdf).

use std::path::Path;
use std::process::Command;

use credit_core::pdf::sign::Seal;
use credit_core::report::Report;
use credit_core::usecase::reports::sealed_pdf;
use integration_tests::fixtures::*;
use integration_tests::{HostOptions, TestHost, development_seal};
use serde_json::{Value, json};

/// spin.toml's default `public_base_url`, which the host serves unless overridden.
const PUBLIC_BASE_URL: &str = "http://127.0.0.1:3000";

fn write_temp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `pdftotext -layout` of the file, as a reader copies it.
fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, `make setup`)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 text")
}

/// Text as extracted, without the whitespace a layout may put inside a value.
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_report_text(pdf: &[u8], report: &Value, dir: &Path) {
    let path = write_temp(dir, "report.pdf", pdf);
    let text = squeezed(&pdftotext(&path));
    let code = report["verification_code"].as_str().unwrap();
    let grouped_or_plain = text.contains(code)
        || text.contains(
            &code
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join("-"),
        );
    assert!(grouped_or_plain, "verification code missing from:\n{text}");
    for field in ["report_no", "uscc"] {
        let value = report[field].as_str().unwrap();
        assert!(
            text.contains(value),
            "{field} {value} missing from:\n{text}"
        );
    }
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for finding in findings {
        let name = squeezed(finding["name"].as_str().unwrap());
        assert!(text.contains(&name), "domain {name} missing from:\n{text}");
        for record in finding["records"].as_array().unwrap() {
            let no = squeezed(record["document_no"].as_str().unwrap());
            assert!(text.contains(&no), "document number {no} missing");
        }
    }
    // Rasterizing works too (no CJK font is needed: the subset is embedded).
    let out = Command::new("pdftoppm")
        .args(["-r", "30", "-f", "1", "-l", "1", "-png"])
        .arg(&path)
        .arg(dir.join("page"))
        .output()
        .expect("pdftoppm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The report JSON the API returns, as the core's snapshot type.
fn snapshot(host: &TestHost, report: &Value) -> Report {
    let no = report["report_no"].as_str().unwrap();
    let owner = entity(report["uscc"].as_str().unwrap());
    let reply = host.get_auth(&format!("/api/v1/reports/{no}"), &owner);
    assert_eq!(reply.status, 200, "{}", reply.text());
    serde_json::from_slice(&reply.body).expect("the report JSON is the core's Report")
}

fn records(uscc: &str, prefix: &str, n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| {
            let mut record = tax_penalty(
                uscc,
                &format!("永税{prefix}罚〔2026〕{i}号"),
                days_ago(30),
                "general",
            );
            record["facts"] = json!(format!("经查，当事人第{i}次未按期办理纳税申报，经责令限期改正后仍未改正，情节一般，依法予以处罚。"));
            record
        })
        .collect()
}

#[test]
fn a_clean_and_a_many_record_report_print_everything_and_download_identically() {
    let host = TestHost::start(HostOptions::product());
    let dir = tempfile::tempdir().unwrap();

    let clean_uscc = credit_code(41, 1);
    let clean = issue_report(&host, &clean_uscc);
    assert_eq!(clean["clean"], true);
    let first = pdf_of(&host, &clean);
    assert_report_text(&first, &clean, dir.path());

    let busy_uscc = credit_code(41, 2);
    store_all(&host, &tax_department(), &records(&busy_uscc, "A", 25));
    let busy = issue_report(&host, &busy_uscc);
    assert_eq!(busy["clean"], false);
    let busy_pdf = pdf_of(&host, &busy);
    assert_report_text(&busy_pdf, &busy, dir.path());

    // The same bytes every time, for the owner and for counter staff acting for it alike,
    // and the same bytes the core renders and seals natively from the report JSON.
    let no = clean["report_no"].as_str().unwrap();
    let clerk = staff("clerk-1");
    apply_on_behalf(&host, &clerk, clean["uscc"].as_str().unwrap());
    let again = download(&host, no, &clerk);
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(again.body == first, "second download differs");
    // HEAD: the download's headers, no body.
    let bearer = format!("Bearer {clerk}");
    let head = host.request(
        "HEAD",
        &format!("/api/v1/reports/{no}/pdf"),
        &[("authorization", &bearer)],
        b"",
    );
    assert_eq!(head.status, 200, "{}", head.text());
    assert!(head.body.is_empty());
    for name in ["content-type", "etag", "content-disposition"] {
        assert_eq!(head.header(name), again.header(name), "{name}");
    }
    let seal = development_seal();
    let seal = Seal::from_pem(&seal.private_key_pem, &seal.chain_pem, true).unwrap();
    for (report, pdf) in [(&clean, &first), (&busy, &busy_pdf)] {
        let native = sealed_pdf(&snapshot(&host, report), PUBLIC_BASE_URL, &seal).unwrap();
        assert!(
            &native == pdf,
            "wasm and native renderings differ for {}",
            report["report_no"]
        );
    }

    let disposition = again.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains(&format!("filename=\"credit-report-{no}.pdf\"")),
        "{disposition}"
    );
    // 专用信用报告 in UTF-8, percent-encoded (RFC 5987).
    assert!(
        disposition.contains(&format!(
            "filename*=UTF-8''%E4%B8%93%E7%94%A8%E4%BF%A1%E7%94%A8%E6%8A%A5%E5%91%8A-{no}.pdf"
        )),
        "{disposition}"
    );
}

#[test]
fn only_the_owner_and_staff_acting_for_it_may_download() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(42, 1);
    let report = issue_report(&host, &uscc);
    let no = report["report_no"].as_str().unwrap();

    let pdf = |no: &str| format!("/api/v1/reports/{no}/pdf");
    let (owner, stranger, tax, clerk) = (
        entity(&uscc),
        entity(&credit_code(42, 2)),
        tax_department(),
        staff("clerk-1"),
    );
    #[rustfmt::skip]
    let table = [
        bad("GET", pdf(no), Body::None, None, 401, "UNAUTHENTICATED"),
        bad("GET", pdf(no), Body::None, Some("not-a-token"), 401, "UNAUTHENTICATED"),
        bad("GET", pdf(no), Body::None, Some(&stranger), 404, "NOT_FOUND"),
        bad("GET", pdf(no), Body::None, Some(&tax), 403, "FORBIDDEN"),
        // Staff not acting for the entity: as if the report did not exist.
        bad("GET", pdf(no), Body::None, Some(&clerk), 404, "NOT_FOUND"),
        bad("GET", pdf("YC20261129-999999"), Body::None, Some(&clerk), 404, "NOT_FOUND"),
        bad("GET", pdf("not-a-number"), Body::None, Some(&clerk), 400, "INVALID_REPORT_NO"),
        bad("POST", pdf(no), Body::None, Some(&owner), 405, "METHOD_NOT_ALLOWED"),
    ];
    assert_bad_requests(&host, &table);
    assert_eq!(download(&host, no, &owner).status, 200);
    apply_on_behalf(&host, &clerk, &uscc);
    assert_eq!(download(&host, no, &clerk).status, 200);
}

#[test]
fn a_two_hundred_record_report_is_a_valid_multi_page_pdf() {
    let host = TestHost::start(HostOptions::product());
    let uscc = credit_code(43, 1);
    store_all(&host, &tax_department(), &records(&uscc, "B", 200));
    let report = issue_report(&host, &uscc);
    assert_eq!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["records"].as_array().unwrap().len())
            .sum::<usize>(),
        200
    );
    let pdf = pdf_of(&host, &report);
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(dir.path(), "200.pdf", &pdf);
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .expect("qpdf");
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "qpdf --check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        stdout.contains("No syntax or stream encoding errors"),
        "{stdout}"
    );
    let pages = Command::new("qpdf")
        .arg("--show-npages")
        .arg(&path)
        .output()
        .unwrap();
    let pages: usize = String::from_utf8_lossy(&pages.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(pages > 20, "200 records on only {pages} pages");
    let text = squeezed(&pdftotext(&path));
    for i in [1, 100, 200] {
        assert!(
            text.contains(&format!("永税B罚〔2026〕{i}号")),
            "record {i} missing"
        );
    }
}
