//! The report PDF, checked with poppler and qpdf as a reader would see it.
//! Needs `pdftotext`, `pdftoppm` (poppler-utils) and `qpdf` on the PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

use credit_core::inspect;
use credit_core::pdf::sample::{THIRTY_PAGES, THREE_PAGES, sample_document};
use credit_core::pdf::{ReportDocument, render};

/// A scratch directory for one test, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("credit-core-pdf-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn run(tool: &str, args: &[&str]) -> std::process::Output {
    Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{tool}` ({e}): install poppler-utils and qpdf (the Makefile's setup does)"
        )
    })
}

fn write_pdf(dir: &Path, document: &ReportDocument) -> (PathBuf, Vec<u8>) {
    let bytes = render(document).expect("render");
    let path = dir.join("report.pdf");
    std::fs::write(&path, &bytes).expect("write pdf");
    (path, bytes)
}

fn extracted_text(path: &Path) -> String {
    let out = run("pdftotext", &["-enc", "UTF-8", path.to_str().unwrap(), "-"]);
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("pdftotext prints UTF-8")
}

fn page_count(path: &Path) -> usize {
    let out = run("pdfinfo", &[path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "pdfinfo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo reports the page count")
}

fn assert_readable(path: &Path, document: &ReportDocument) {
    let text = extracted_text(path);
    // Compare without layout whitespace: pdftotext may split lines anywhere.
    let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let flat_of = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    for needle in [
        &document.verification_code,
        &document.uscc,
        &document.report_no,
        &document.entity_name,
    ] {
        assert!(
            flat.contains(&flat_of(needle)),
            "{needle:?} missing from the extracted text"
        );
    }
    for domain in &document.domains {
        assert!(
            flat.contains(&flat_of(&domain.name)),
            "domain {:?} missing from the extracted text",
            domain.name
        );
        for record in &domain.records {
            assert!(
                flat.contains(&flat_of(&record.document_no)),
                "document number {:?} missing from the extracted text",
                record.document_no
            );
        }
    }
}

#[test]
fn clean_report_text_extracts_without_installed_cjk_fonts() {
    let dir = scratch("clean");
    let document = sample_document(0);
    let (path, _) = write_pdf(&dir, &document);
    assert_readable(&path, &document);
    let text = extracted_text(&path);
    assert!(text.contains("无违法违规记录"));
    assert!(text.contains("第1页/共3页"), "footer page numbers: {text}");
}

#[test]
fn report_with_200_records_is_valid_readable_and_renders() {
    let dir = scratch("many");
    let document = sample_document(200);
    let (path, _) = write_pdf(&dir, &document);
    assert_readable(&path, &document);

    let check = run("qpdf", &["--check", path.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "qpdf --check failed:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    let pages = page_count(&path);
    assert!(
        pages > 30,
        "200 records should flow over many pages, got {pages}"
    );
    let text = extracted_text(&path);
    assert!(
        text.contains(&format!("第{pages}页/共{pages}页")),
        "last page footer"
    );
    assert!(text.contains("第200条"));
    assert!(text.contains("异议处理中"));

    let prefix = dir.join("page");
    let raster = run(
        "pdftoppm",
        &[
            "-r",
            "50",
            "-png",
            path.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    assert!(
        raster.status.success(),
        "pdftoppm failed: {}",
        String::from_utf8_lossy(&raster.stderr)
    );
    let pngs = std::fs::read_dir(&dir).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "png")
    });
    assert_eq!(pngs.count(), pages);
    let stderr = String::from_utf8_lossy(&raster.stderr);
    assert!(
        !stderr.contains("Error"),
        "poppler complained while rendering: {stderr}"
    );
}

#[test]
fn sample_sizes_match_their_names() {
    for (records, expected) in [(THREE_PAGES, 3), (THIRTY_PAGES, 30)] {
        let dir = scratch(&format!("size-{records}"));
        let (path, _) = write_pdf(&dir, &sample_document(records));
        let pages = page_count(&path);
        assert!(
            pages.abs_diff(expected) <= 1,
            "{records} records: {pages} pages, expected about {expected}"
        );
    }
}

#[test]
fn same_document_renders_to_identical_bytes() {
    let document = sample_document(THREE_PAGES);
    let first = render(&document).unwrap();
    let second = render(&document).unwrap();
    assert_eq!(first, second);
    let other = ReportDocument {
        report_no: "YC-20261129-000124".into(),
        ..document
    };
    assert_ne!(
        render(&other).unwrap(),
        first,
        "the file identifier follows the report"
    );
}

#[test]
fn file_uses_classic_xref_and_embedded_subset_fonts() {
    let bytes = render(&sample_document(THREE_PAGES)).unwrap();
    let find = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(find(b"\nxref\n"), "classic cross-reference table");
    assert!(!find(b"/XRef"), "no cross-reference stream");
    assert!(find(b"/FontFile2"));
    assert!(find(b"/ToUnicode"));
    let dir = scratch("fonts");
    let path = dir.join("report.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let fonts = run("pdffonts", &[path.to_str().unwrap()]);
    let listing = String::from_utf8_lossy(&fonts.stdout);
    let embedded: Vec<&str> = listing.lines().skip(2).collect();
    assert_eq!(embedded.len(), 2, "{listing}");
    for line in embedded {
        assert!(
            line.contains("CID TrueType") && line.contains("Identity-H"),
            "{line}"
        );
        let columns: Vec<&str> = line.split_whitespace().collect();
        // emb sub uni columns
        assert_eq!(
            &columns[columns.len() - 5..columns.len() - 2],
            &["yes", "yes", "yes"],
            "{line}"
        );
    }
}

#[test]
fn claims_are_recovered_from_a_rendered_report() {
    let document = sample_document(THREE_PAGES);
    let bytes = render(&document).unwrap();
    let claims = inspect::claims(&bytes);
    assert_eq!(
        claims.report_no.as_deref(),
        Some(document.report_no.as_str())
    );
    assert_eq!(
        claims.verification_code.as_deref(),
        Some(document.verification_code.as_str())
    );
    assert_eq!(
        claims.snapshot_digest.as_deref(),
        Some(document.snapshot_digest.as_str())
    );
    assert!(!claims.conflicting);
}
