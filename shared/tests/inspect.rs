//! `inspect::claims` on hostile and damaged uploads: never a panic, work
//! within the module's limits (so no hang and bounded memory), and what can
//! still be read is read.

use std::io::Write as _;

use credit_core::inspect::{
    Claims, Inspection, LOAD_INFLATE_BUDGET, MAX_OBJECTS, READ_INFLATE_LIMIT, inspect,
};
use credit_core::pdf::render;
use credit_core::pdf::sample::sample_document;
use flate2::Compression;
use flate2::write::ZlibEncoder;

/// A classic PDF around `objects` (bodies of objects 1..=n, object 1 the
/// catalog) with a correct cross-reference table.
fn pdf(objects: &[Vec<u8>], trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        writeln!(out, "{} 0 obj", i + 1).unwrap();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).unwrap();
    for offset in offsets {
        writeln!(out, "{offset:010} 00000 n ").unwrap();
    }
    write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    )
    .unwrap();
    out
}

fn stream(dict: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!("<< {dict} /Length {} >>\nstream\n", content.len()).into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(b"\nendstream");
    body
}

fn deflate_zeros(len: usize) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        encoder.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    encoder.finish().unwrap()
}

/// Inspects on its own thread with a small stack (components have about
/// 1 MiB), and checks the work done against the module's limits.
fn bounded(bytes: Vec<u8>) -> Inspection {
    let len = bytes.len();
    let inspection = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || inspect(&bytes))
        .expect("spawn")
        .join()
        .expect("inspect must not panic or overflow the stack");
    let work = inspection.work;
    assert!(work.bytes_parsed <= len, "{work:?}");
    assert!(work.objects_loaded <= MAX_OBJECTS, "{work:?}");
    assert!(
        work.load_inflate_per_stream <= LOAD_INFLATE_BUDGET,
        "{work:?}"
    );
    assert!(
        work.metadata_bytes_inflated <= READ_INFLATE_LIMIT,
        "{work:?}"
    );
    inspection
}

fn bounded_claims(bytes: Vec<u8>) -> Claims {
    bounded(bytes).claims
}

#[test]
fn garbage_claims_nothing() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    assert!(bounded_claims(noise.clone()).is_empty());
    let mut with_header = b"%PDF-1.7\n".to_vec();
    with_header.extend_from_slice(&noise);
    assert!(bounded_claims(with_header).is_empty());
    assert!(bounded_claims(Vec::new()).is_empty());
    assert!(bounded_claims(b"%PDF-".to_vec()).is_empty());
    assert!(bounded_claims(b"\x89PNG\r\n\x1a\n".to_vec()).is_empty());
}

#[test]
fn truncated_report_still_names_itself_when_the_metadata_survives() {
    let document = sample_document(3);
    let bytes = render(&document).unwrap();
    let cut = bounded_claims(bytes[..bytes.len() - 300].to_vec());
    assert_eq!(cut.report_no.as_deref(), Some(document.report_no.as_str()));
    for len in [0, 9, 100, 1000, bytes.len() / 3, bytes.len() / 2] {
        bounded_claims(bytes[..len].to_vec());
    }
}

#[test]
fn appended_update_changing_the_metadata_is_flagged_as_conflicting() {
    let document = sample_document(0);
    let mut bytes = render(&document).unwrap();
    let original_len = bytes.len();
    let info_offset = bytes.len();
    bytes.extend_from_slice(b"\n999 0 obj\n<< /ReportNo (YC-20990101-000001) >>\nendobj\n");
    let xref = bytes.len();
    let text = String::from_utf8_lossy(&bytes[..original_len]).into_owned();
    let root = text.rfind("/Root ").map(|i| {
        let mut numbers = text[i + 6..].split_whitespace();
        format!(
            "/Root {} {} R",
            numbers.next().unwrap_or(""),
            numbers.next().unwrap_or("")
        )
    });
    let prev = text.rfind("startxref").map(|i| {
        text[i + 9..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_owned()
    });
    let (root, prev) = (
        root.expect("trailer has /Root"),
        prev.expect("file has startxref"),
    );
    write!(
        bytes,
        "xref\n999 1\n{:010} 00000 n \ntrailer\n<< /Size 1000 {root} /Info 999 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n",
        info_offset + 1
    )
    .unwrap();
    let claimed = bounded_claims(bytes.clone());
    let padded = bounded(padded_to_upload_limit(bytes.clone()));
    assert_eq!(padded.claims, claimed);
    assert!(padded.work.bytes_parsed <= bytes.len(), "{:?}", padded.work);
    assert!(claimed.report_no.is_some());
    assert!(
        claimed.conflicting,
        "Info says one report, the page another: {claimed:?}"
    );
    assert_eq!(
        claimed.all_report_nos,
        ["YC-20990101-000001", document.report_no.as_str()]
    );
}

/// `bytes` followed by a comment that fills it up to the 5 MiB upload limit,
/// the way the benchmark pads its upload.
fn padded_to_upload_limit(mut bytes: Vec<u8>) -> Vec<u8> {
    let fill = 5 * 1024 * 1024 - bytes.len() - 2;
    bytes.push(b'%');
    bytes.resize(bytes.len() + fill, b'x');
    bytes.push(b'\n');
    bytes
}

#[test]
fn padding_comment_after_the_end_hides_nothing() {
    let document = sample_document(3);
    let bytes = render(&document).unwrap();
    let expected = bounded_claims(bytes.clone());
    assert_eq!(
        expected.verification_code.as_deref(),
        Some(document.verification_code.as_str())
    );
    // On the `%%EOF` line itself, and on lines of its own; the padding is
    // never parsed.
    let mut on_new_line = bytes.clone();
    on_new_line.extend_from_slice(b"\n%comment\n\n");
    for unpadded in [bytes.clone(), on_new_line] {
        let padded = bounded(padded_to_upload_limit(unpadded));
        assert_eq!(padded.claims, expected);
        assert!(padded.work.bytes_parsed <= bytes.len(), "{:?}", padded.work);
    }
}

#[test]
fn decompression_bombs_are_not_inflated() {
    let bomb = deflate_zeros(64 << 20);
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 4 0 R >>".to_vec(),
        stream("/Filter /FlateDecode", &bomb),
        stream("/Type /Metadata /Subtype /XML /Filter /FlateDecode", &bomb),
        stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &bomb),
        stream("/Filter [/FlateDecode /FlateDecode]", &deflate_zeros(0)),
    ];
    let bombed = bounded(pdf(&objects, ""));
    assert!(bombed.claims.is_empty());
    let work = bombed.work;
    assert!(work.bytes_parsed > 0, "parsed, within the budget: {work:?}");
    // Four streams share the load budget; the XMP bomb is refused, not inflated.
    assert!(
        work.load_inflate_per_stream <= LOAD_INFLATE_BUDGET / 4,
        "{work:?}"
    );
    assert_eq!(work.metadata_bytes_inflated, 0, "{work:?}");
}

#[test]
fn deep_nesting_and_cycles_do_not_overflow_or_loop() {
    let depth = 50_000;
    let nested = format!(
        "<< /Type /Catalog /Pages 2 0 R /X {}{} >>",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let dicts = format!(
        "<< /Type /Catalog /Pages 2 0 R /X {}{} >>",
        "<< /A ".repeat(depth),
        ">> ".repeat(depth)
    );
    for catalog in [nested, dicts] {
        let objects = vec![
            catalog.into_bytes(),
            b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 /Parent 3 0 R >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /Kids [2 0 R] /Resources 3 0 R >>".to_vec(),
        ];
        let work = bounded(pdf(&objects, "/Info 4 0 R")).work;
        assert_eq!(work.bytes_parsed, 0, "refused before parsing: {work:?}");
    }
    let info_cycle = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
        b"<< /ReportNo 4 0 R >>".to_vec(),
        b"4 0 R".to_vec(),
    ];
    assert_eq!(
        bounded_claims(pdf(&info_cycle, "/Info 3 0 R")).report_no,
        None
    );
}

#[test]
fn absurd_sizes_and_object_floods_are_refused() {
    let objects = vec![b"<< /Type /Catalog >>".to_vec()];
    let mut huge_size = pdf(&objects, "/Size 2147483647");
    huge_size.extend_from_slice(b"xref\n0 2147483647\n");
    bounded_claims(huge_size);

    let flood: Vec<Vec<u8>> = (0..60_000).map(|_| b"null".to_vec()).collect();
    let flooded = bounded(pdf(&flood, "/Info << /ReportNo (YC-1) >>"));
    assert!(flooded.claims.is_empty());
    assert_eq!(flooded.work.bytes_parsed, 0, "{:?}", flooded.work);
}

#[test]
fn claimed_values_are_bounded_and_printable() {
    let long = "Y".repeat(10_000);
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec(),
    ];
    let claimed = bounded_claims(pdf(
        &objects,
        &format!("/Info << /ReportNo ({long}) /VerificationCode (ab\\ncd) /SnapshotDigest (ok) >>"),
    ));
    assert_eq!(claimed.report_no, None);
    assert_eq!(claimed.verification_code, None);
    assert_eq!(claimed.snapshot_digest.as_deref(), Some("ok"));
}

#[test]
fn visible_cover_text_names_the_report_when_metadata_is_stripped() {
    let document = sample_document(0);
    let mut bytes = render(&document).unwrap();
    // Same-length renames keep the cross-reference offsets valid.
    for (from, to) in [(&b"/Info"[..], &b"/Nnfo"[..]), (b"/Metadata", b"/Netadata")] {
        let at = bytes
            .windows(from.len())
            .rposition(|w| w == from)
            .expect("key present");
        bytes[at..at + to.len()].copy_from_slice(to);
    }
    let claimed = bounded_claims(bytes);
    assert_eq!(
        claimed.report_no.as_deref(),
        Some(document.report_no.as_str())
    );
    assert_eq!(
        claimed.verification_code.as_deref(),
        Some(document.verification_code.as_str())
    );
    assert_eq!(claimed.snapshot_digest, None);
}
