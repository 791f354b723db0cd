//! The report seal through the real components, judged by independent validators: poppler's
//! pdfsig and pyHanko (the development CA as its only trust root) find a downloaded report's
//! signature valid and covering the whole file; one changed byte breaks it for both; an
//! incremental update appended after signing is reported by both and by file verification, as is
//! a report re-sealed by another signer. qpdf finds the file clean and poppler renders it. The
//! chain is published at `/api/v1/seal/certificates`; without usable key material nothing is
//! issued, while pinned files are still served.
//!
//! pyHanko comes from the virtualenv `make test` installs (`PYHANKO`, default
//! `target/pyhanko/bin/pyhanko`).

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::DateTime;
use credit_core::pdf::sign::development::generate;
use credit_core::pdf::sign::{Certificates, Seal};
use credit_core::report::Report;
use credit_core::usecase::reports::sealed_pdf;
use integration_tests::fixtures::*;
use integration_tests::{
    DEVELOPMENT_SIGNER, HostOptions, Reply, TestHost, development_seal, workspace_dir,
};
use lopdf::{IncrementalDocument, Object, Stream};
use serde_json::{Value, json};

/// spin.toml's default `public_base_url`, which the host serves unless overridden.
const PUBLIC_BASE_URL: &str = "http://127.0.0.1:3000";
/// A validator that takes longer than this has hung.
const VALIDATOR_SECONDS: &str = "120";

/// A command's exit status and everything it printed, run with a time limit.
fn run(program: &Path, args: &[&str], file: &Path) -> (bool, String) {
    let out = Command::new("timeout")
        .arg(VALIDATOR_SECONDS)
        .arg(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn pdfsig(file: &Path) -> String {
    run(Path::new("pdfsig"), &[], file).1
}

fn pyhanko_binary() -> PathBuf {
    let binary = std::env::var_os("PYHANKO")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("target/pyhanko/bin/pyhanko"));
    assert!(
        binary.exists(),
        "pyHanko not found at {}: `make test` installs it (make target/pyhanko/.installed-*), or set PYHANKO",
        binary.display()
    );
    binary
}

/// `pyhanko sign validate` with the development CA as the only trust root. Revocation is not
/// checked: the development CA publishes no CRL or OCSP responder.
fn pyhanko(file: &Path, ca: &Path) -> (bool, String) {
    let ca = ca.to_str().unwrap();
    run(
        &pyhanko_binary(),
        &[
            "sign",
            "validate",
            "--pretty-print",
            "--trust",
            ca,
            "--trust-replace",
            "--no-revocation-check",
        ],
        file,
    )
}

/// The files the validators read, in a temporary folder.
struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Files {
        let files = Files(tempfile::tempdir().unwrap());
        std::fs::write(files.ca(), &development_seal().ca_pem).unwrap();
        files
    }

    fn ca(&self) -> PathBuf {
        self.0.path().join("ca.pem")
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

fn verify_file(host: &TestHost, pdf: &[u8]) -> Value {
    let reply = host.post("/api/v1/verify/file", "application/pdf", pdf);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// The report JSON the API returns, as the core's snapshot type.
fn snapshot(host: &TestHost, report: &Value) -> Report {
    let no = report["report_no"].as_str().unwrap();
    let owner = entity(report["uscc"].as_str().unwrap());
    let reply = host.get_auth(&format!("/api/v1/reports/{no}"), &owner);
    assert_eq!(reply.status, 200, "{}", reply.text());
    serde_json::from_slice(&reply.body).expect("the report JSON is the core's Report")
}

/// The issue time as the signature states it: to the second, in China time.
fn signing_time(report: &Value) -> String {
    DateTime::parse_from_rfc3339(report["issued_at"].as_str().unwrap())
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// A real incremental update after signing: the cover's content stream replaced by a forged one.
fn append_update(pdf: &[u8]) -> Vec<u8> {
    let mut doc = IncrementalDocument::load_from(pdf).unwrap();
    let cover = *doc.get_prev_documents().get_pages().get(&1).unwrap();
    doc.opt_clone_object_to_new_document(cover).unwrap();
    let forged = doc.new_document.add_object(Stream::new(
        Default::default(),
        b"q 1 1 1 rg 40 400 515 200 re f Q".to_vec(),
    ));
    doc.new_document
        .get_object_mut(cover)
        .unwrap()
        .as_dict_mut()
        .unwrap()
        .set("Contents", Object::Reference(forged));
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    assert!(
        out.starts_with(pdf),
        "an incremental update keeps the original bytes"
    );
    out
}

/// The same file with one byte of the producer name in its Info dictionary changed.
fn one_byte_changed(pdf: &[u8]) -> Vec<u8> {
    let at = pdf
        .windows(b"credit-core".len())
        .rposition(|w| w == b"credit-core")
        .expect("the producer name");
    let mut changed = pdf.to_vec();
    changed[at] = b'C';
    changed
}

/// The seal image the deployer supplies in the first test: a small red ring on transparency.
fn seal_image() -> Vec<u8> {
    std::fs::read(workspace_dir().join("shared/tests/fixtures/seal-ring.png")).unwrap()
}

#[test]
fn a_downloaded_report_is_sealed_valid_for_pdfsig_and_pyhanko_and_still_a_clean_pdf() {
    use base64::Engine as _;
    let host = TestHost::start(HostOptions::product().variable(
        "seal_image_png",
        base64::engine::general_purpose::STANDARD.encode(seal_image()),
    ));
    let files = Files::new();
    let report = issue_report(&host, &credit_code(61, 1));
    let pdf = pdf_of(&host, &report);
    let path = files.write("report.pdf", &pdf);

    let poppler = pdfsig(&path);
    for expected in [
        "Signature Type: ETSI.CAdES.detached",
        "Signing Hash Algorithm: SHA-256",
        &format!("Signer Certificate Common Name: {DEVELOPMENT_SIGNER}"),
        "Total document signed",
        "Signature Validation: Signature is Valid.",
    ] {
        assert!(
            poppler.contains(expected),
            "pdfsig lacks {expected:?}:\n{poppler}"
        );
    }

    let (valid, hanko) = pyhanko(&path, &files.ca());
    assert!(valid, "pyHanko:\n{hanko}");
    for expected in [
        "The signer's certificate is trusted.",
        "The signature is cryptographically sound.",
        "The signature covers the entire file.",
        "The signature is judged VALID.",
        &format!(
            "Signing time as reported by signer: {}",
            signing_time(&report)
        ),
    ] {
        assert!(
            hanko.contains(expected),
            "pyHanko lacks {expected:?}:\n{hanko}"
        );
    }

    let (clean, qpdf) = run(Path::new("qpdf"), &["--check"], &path);
    assert!(
        clean && qpdf.contains("No syntax or stream encoding errors"),
        "{qpdf}"
    );
    let page = files.0.path().join("cover");
    let out = Command::new("pdftoppm")
        .args(["-r", "30", "-f", "1", "-l", "1", "-png"])
        .arg(&path)
        .arg(&page)
        .output()
        .expect("pdftoppm");
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");

    // The seal is the same natively: the file is the core's sealing of the snapshot.
    let seal = development_seal();
    let seal = Seal::from_pem(&seal.private_key_pem, &seal.chain_pem, true)
        .unwrap()
        .with_image(Some(&seal_image()))
        .unwrap();
    assert!(sealed_pdf(&snapshot(&host, &report), PUBLIC_BASE_URL, &seal).unwrap() == pdf);

    let answer = verify_file(&host, &pdf);
    assert_eq!(answer["outcome"], "VALID", "{answer}");
    assert_eq!(
        answer["signature"],
        json!({
            "present": true,
            "valid": true,
            "covers_whole_file": true,
            "by_issuer": true,
            "signer": DEVELOPMENT_SIGNER,
            "signed_at": DateTime::parse_from_rfc3339(&signing_time(&report)).unwrap(),
        })
    );
}

#[test]
fn a_changed_byte_or_an_appended_update_is_caught_by_every_validator() {
    let host = TestHost::start(HostOptions::product());
    let files = Files::new();
    let report = issue_report(&host, &credit_code(61, 2));
    let pdf = pdf_of(&host, &report);

    let changed = files.write("changed.pdf", &one_byte_changed(&pdf));
    let poppler = pdfsig(&changed);
    assert!(
        !poppler.contains("Signature is Valid.") && poppler.contains("Digest Mismatch"),
        "{poppler}"
    );
    let (valid, hanko) = pyhanko(&changed, &files.ca());
    assert!(
        !valid && hanko.contains("The signature is judged INVALID."),
        "{hanko}"
    );
    let answer = verify_file(&host, &std::fs::read(&changed).unwrap());
    assert_eq!(answer["outcome"], "TAMPERED", "{answer}");
    assert_eq!(answer["signature"]["present"], true, "{answer}");
    assert_eq!(answer["signature"]["valid"], false, "{answer}");

    let updated = append_update(&pdf);
    let path = files.write("updated.pdf", &updated);
    let poppler = pdfsig(&path);
    assert!(
        poppler.contains("Not total document signed") && poppler.contains("Signature is Valid."),
        "{poppler}"
    );
    let (valid, hanko) = pyhanko(&path, &files.ca());
    assert!(
        !valid && hanko.contains("The signature does not cover the entire file."),
        "{hanko}"
    );
    let answer = verify_file(&host, &updated);
    assert_eq!(answer["outcome"], "TAMPERED", "{answer}");
    assert_eq!(answer["appended_update"], true, "{answer}");
    assert_eq!(answer["signature"]["valid"], true, "{answer}");
    assert_eq!(answer["signature"]["covers_whole_file"], false, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("增量更新"),
        "{answer}"
    );
}

#[test]
fn a_report_re_sealed_by_another_signer_is_tampered_with_that_reason() {
    let host = TestHost::start(HostOptions::product());
    let report = issue_report(&host, &credit_code(61, 3));
    pdf_of(&host, &report);
    let other = generate("另一个根证书", "冒名签章单位").unwrap();
    let other = Seal::from_pem(&other.private_key_pem, &other.chain_pem, true).unwrap();
    let forged = sealed_pdf(&snapshot(&host, &report), PUBLIC_BASE_URL, &other).unwrap();

    let answer = verify_file(&host, &forged);
    assert_eq!(answer["outcome"], "TAMPERED", "{answer}");
    assert_eq!(answer["signed_by_other"], true, "{answer}");
    assert_eq!(answer["signature"]["valid"], true, "{answer}");
    assert_eq!(answer["signature"]["by_issuer"], false, "{answer}");
    assert_eq!(answer["signature"]["signer"], "冒名签章单位", "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("其他签章者"),
        "{answer}"
    );
}

#[test]
fn the_chain_is_published_as_pem() {
    let host = TestHost::start(HostOptions::product());
    let reply = host.get("/api/v1/seal/certificates");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type"),
        Some("application/pem-certificate-chain")
    );
    assert_eq!(
        Certificates::from_pem(&reply.text(), true).unwrap(),
        Certificates::from_pem(&development_seal().chain_pem, true).unwrap()
    );
}

fn config_problem_detail(reply: &Reply) -> String {
    let body = assert_problem(reply, 500, "INVALID_CONFIG");
    body["detail"].as_str().unwrap().to_owned()
}

#[test]
fn without_usable_key_material_the_service_does_not_seal() {
    let manifest = workspace_dir().join("spin.toml");
    let refused = TestHost::try_start(HostOptions::new(&manifest))
        .err()
        .expect("a host without the seal variables must not start");
    assert!(refused.contains("seal_private_key_pem"), "{refused}");

    // The development seal outside development mode (auth_mode=development): refused,
    // naming why.
    let host = TestHost::start(HostOptions::product_without_sign_in());
    let detail = config_problem_detail(&host.get("/api/v1/seal/certificates"));
    assert!(detail.contains("开发"), "{detail}");
}
