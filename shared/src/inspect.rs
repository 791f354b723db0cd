//! What an uploaded PDF claims to be, read defensively.
//!
//! File verification compares hashes first; this module only names the
//! report a non-matching file pretends to be, so the answer can say which
//! report was tampered with. Uploads may be hostile: every read here is
//! bounded (input size, object count, decompressed bytes, nesting depth via
//! lopdf's parser) and every failure degrades to "no claim", never a panic.

use lopdf::{Document, LoadOptions, Object, decode_text_string};
use memchr::{memchr, memchr2, memmem, memrchr2};
use sha2::{Digest, Sha256};

use crate::codes::hex;
use crate::pdf::sign::SignatureDictionary;
use crate::pdf::{
    CODE_LABEL, CODE_LABEL_BEFORE_2026_12, INFO_CODE, INFO_DIGEST, INFO_REPORT_NO, REPORT_NO_LABEL,
};

/// Larger inputs are not parsed (uploads are capped at 5 MiB before this).
pub const MAX_INPUT_BYTES: usize = 6 * 1024 * 1024;
/// Files with more indirect objects than this are not parsed; a report has
/// a few per page.
pub const MAX_OBJECTS: usize = 20_000;
/// Total bytes that object and cross-reference streams may inflate to while
/// loading, shared among all streams in the file.
pub const LOAD_INFLATE_BUDGET: usize = 2 * 1024 * 1024;
/// Bound for the XMP packet, the first page's content and its font maps.
pub const READ_INFLATE_LIMIT: usize = 1024 * 1024;
const MAX_CLAIM_CHARS: usize = 128;
/// Deepest array/dictionary nesting accepted. lopdf stops at 100, but its
/// parser recurses through several frames per level; a report needs 4.
const MAX_NESTING: usize = 32;
/// How far into a file the report number of a truncated copy is looked
/// for: reports put their (uncompressed) XMP packet within the first KiB.
pub const LEADING_SCAN_BYTES: usize = 16 * 1024;
/// How far after a printed label its value may start.
const LABEL_GAP_CHARS: usize = 16;

/// The identity a PDF claims, from its metadata or its visible text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    pub report_no: Option<String>,
    pub verification_code: Option<String>,
    pub snapshot_digest: Option<String>,
    /// Two sources (Info, XMP, page text) name different values for the same
    /// field: a sign of editing.
    pub conflicting: bool,
    /// Every distinct report number named, in source order (the first is
    /// `report_no`): when sources disagree, look each one up.
    pub all_report_nos: Vec<String>,
    /// Every distinct verification code named, in source order.
    pub all_codes: Vec<String>,
}

impl Claims {
    pub fn is_empty(&self) -> bool {
        self.report_no.is_none()
            && self.verification_code.is_none()
            && self.snapshot_digest.is_none()
    }
}

/// What reading one file took: the work the limits above bound, so that tests
/// can hold hostile files to them without timing anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Bytes handed to the PDF parser; 0 when the file was refused before
    /// parsing (too large, too many objects, nested too deep).
    pub bytes_parsed: usize,
    /// Indirect objects the parser loaded.
    pub objects_loaded: usize,
    /// The most each stream could inflate to while loading: the load budget
    /// shared among the file's streams (0 when nothing was parsed).
    pub load_inflate_per_stream: usize,
    /// Bytes of XMP metadata inflated after loading.
    pub metadata_bytes_inflated: usize,
}

/// The claims a file makes, its signature, and the work it took to read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inspection {
    pub claims: Claims,
    /// The signature dictionary covering the most bytes, when there is one.
    pub signature: Option<SignatureDictionary>,
    pub work: Work,
}

/// Reads the Info dictionary, then the XMP packet, then the report number and
/// verification code printed on the first page. A file that cannot be parsed
/// within the limits claims nothing.
pub fn claims(bytes: &[u8]) -> Claims {
    inspect(bytes).claims
}

/// [`claims`], with what reading them took.
pub fn inspect(bytes: &[u8]) -> Inspection {
    let mut work = Work::default();
    let Some(doc) = load(bytes, &mut work) else {
        return Inspection {
            work,
            ..Inspection::default()
        };
    };
    let sources = [
        from_info(&doc),
        from_xmp(&doc, &mut work),
        from_first_page(&doc),
    ];
    Inspection {
        claims: merge(&sources),
        signature: signature_dictionary(&doc),
        work,
    }
}

/// Of the dictionaries with a `/ByteRange` and a `/Contents` string, the
/// one whose signed bytes reach furthest: the latest signature. Found
/// among all objects rather than through the form fields, so that a file
/// whose form was edited still shows the signature it carries.
fn signature_dictionary(doc: &Document) -> Option<SignatureDictionary> {
    doc.objects
        .values()
        .filter_map(|object| object.as_dict().ok())
        .filter_map(|dict| {
            let byte_range = dict
                .get(b"ByteRange")
                .ok()?
                .as_array()
                .ok()?
                .iter()
                .map(|n| n.as_i64().ok())
                .collect::<Option<Vec<i64>>>()?;
            let Object::String(contents, _) = dict.get(b"Contents").ok()? else {
                return None;
            };
            let signed_at = dict
                .get(b"M")
                .ok()
                .and_then(|m| m.as_str().ok())
                .map(|m| String::from_utf8_lossy(m).into_owned());
            Some(SignatureDictionary {
                byte_range,
                contents: contents.clone(),
                signed_at,
            })
        })
        .max_by_key(|found| match found.byte_range[..] {
            [_, _, start, length] => start.saturating_add(length),
            _ => i64::MIN,
        })
}

/// True when `upload` begins with exactly the original file (same size and
/// SHA-256 as recorded) and goes on after it: an incremental update was
/// appended after issue, the classic way to alter a signed-looking PDF.
pub fn extends_original(upload: &[u8], original_size: u64, original_sha256_hex: &str) -> bool {
    let Ok(size) = usize::try_from(original_size) else {
        return false;
    };
    if upload.len() <= size {
        return false;
    }
    hex(&Sha256::digest(&upload[..size])).eq_ignore_ascii_case(original_sha256_hex.trim())
}

/// The report number the XMP packet near the start of a file names, read
/// from the raw bytes without parsing: a copy cut short by a dropped
/// connection has its first objects but no cross-reference table or trailer,
/// and reports write the packet right after the header
/// (crate::pdf::write). Looks only at the first [`LEADING_SCAN_BYTES`].
pub fn leading_report_no(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(LEADING_SCAN_BYTES)];
    if !head.starts_with(b"%PDF-") {
        return None;
    }
    let element = format!(":{INFO_REPORT_NO}>");
    let start = memmem::find(head, element.as_bytes())? + element.len();
    let end = start + memchr(b'<', &head[start..])?;
    sanitize(&unescape(std::str::from_utf8(&head[start..end]).ok()?))
}

fn load(bytes: &[u8], work: &mut Work) -> Option<Document> {
    if bytes.len() > MAX_INPUT_BYTES || !bytes.starts_with(b"%PDF-") {
        return None;
    }
    let bytes = without_trailing_comments(bytes);
    // Each indirect object is written "N G obj ... endobj": two matches.
    if count(bytes, b"obj") > 2 * MAX_OBJECTS + 2 {
        return None;
    }
    if nested_deeper_than(bytes, MAX_NESTING) {
        return None;
    }
    // Every stream carries the keyword "stream" (twice, with "endstream"), so
    // this split keeps the total inflated at load within the budget.
    let streams = count(bytes, b"stream").max(1);
    work.bytes_parsed = bytes.len();
    work.load_inflate_per_stream = LOAD_INFLATE_BUDGET / streams;
    let options = LoadOptions {
        max_decompressed_size: Some(work.load_inflate_per_stream),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(bytes, options).ok()?;
    work.objects_loaded = doc.objects.len();
    (doc.objects.len() <= MAX_OBJECTS).then_some(doc)
}

/// The file up to its last `%%EOF` marker when only comments and blank lines
/// follow it (padding, or text on the marker's own line). Comments mean
/// nothing in PDF, but lopdf looks for the marker only in the last KiB: past
/// a long trailing comment it would rebuild the cross-reference table by
/// scanning every byte instead of reading the one the file has. Anything else
/// after the marker is kept for lopdf to judge.
fn without_trailing_comments(bytes: &[u8]) -> &[u8] {
    const EOF_MARKER: &[u8] = b"%%EOF";
    let mut end = bytes.len();
    loop {
        let line_end = bytes[..end]
            .iter()
            .rposition(|b| !b"\r\n".contains(b))
            .map_or(0, |at| at + 1);
        let line_start = memrchr2(b'\n', b'\r', &bytes[..line_end]).map_or(0, |at| at + 1);
        let line = bytes[line_start..line_end].trim_ascii_start();
        if line.starts_with(EOF_MARKER) {
            return &bytes[..line_end - line.len() + EOF_MARKER.len()];
        }
        if line_start == 0 || !(line.is_empty() || line.starts_with(b"%")) {
            return bytes;
        }
        end = line_start;
    }
}

/// Scans the file's syntax outside streams, strings and comments for array
/// and dictionary nesting deeper than `limit`.
fn nested_deeper_than(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        match bytes[i] {
            b'%' => i += memchr2(b'\n', b'\r', &bytes[i..]).unwrap_or(bytes.len() - i),
            b'(' => i += literal_string_len(&bytes[i..]),
            b'<' if next == Some(b'<') => {
                depth += 1;
                i += 1;
            }
            b'<' => i += memchr(b'>', &bytes[i..]).unwrap_or(bytes.len() - i),
            b'>' if next == Some(b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b's' if bytes[i..].starts_with(b"stream")
                && (i == 0 || !bytes[i - 1].is_ascii_alphabetic()) =>
            {
                i += memmem::find(&bytes[i..], b"endstream").unwrap_or(bytes.len() - i);
            }
            _ => {}
        }
        if depth > limit {
            return true;
        }
        i += 1;
    }
    false
}

/// Length of the literal string at the start of `bytes`, up to its last byte:
/// balanced parentheses, backslash escapes.
fn literal_string_len(bytes: &[u8]) -> usize {
    let mut open = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => open += 1,
            b')' => {
                open -= 1;
                if open == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len().saturating_sub(1)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    memmem::find_iter(haystack, needle).count()
}

fn from_info(doc: &Document) -> Claims {
    let Some(info) = doc
        .trailer
        .get(b"Info")
        .ok()
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_dict().ok())
    else {
        return Claims::default();
    };
    let field = |key: &str| {
        info.get(key.as_bytes())
            .ok()
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| decode_text_string(o).ok())
            .and_then(|s| sanitize(&s))
    };
    Claims {
        report_no: field(INFO_REPORT_NO),
        verification_code: field(INFO_CODE),
        snapshot_digest: field(INFO_DIGEST),
        ..Claims::default()
    }
}

fn from_xmp(doc: &Document, work: &mut Work) -> Claims {
    let packet = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"Metadata").ok())
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_stream().ok())
        .and_then(|s| s.get_plain_content_with_limit(READ_INFLATE_LIMIT).ok());
    let Some(packet) = packet else {
        return Claims::default();
    };
    work.metadata_bytes_inflated = packet.len();
    let text = String::from_utf8_lossy(&packet);
    Claims {
        report_no: xmp_property(&text, INFO_REPORT_NO),
        verification_code: xmp_property(&text, INFO_CODE),
        snapshot_digest: xmp_property(&text, INFO_DIGEST),
        ..Claims::default()
    }
}

/// A property in element form (`<p:Name>value</p:Name>`) or attribute form
/// (`p:Name="value"`), whatever the prefix.
fn xmp_property(xml: &str, name: &str) -> Option<String> {
    let element = format!(":{name}>");
    let attribute = format!(":{name}=\"");
    let value = if let Some(start) = xml.find(&element) {
        let rest = &xml[start + element.len()..];
        &rest[..rest.find('<')?]
    } else {
        let start = xml.find(&attribute)?;
        let rest = &xml[start + attribute.len()..];
        &rest[..rest.find('"')?]
    };
    sanitize(&unescape(value))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn from_first_page(doc: &Document) -> Claims {
    // Chunks that fail to decode (an odd font) do not hide the others.
    let text: String = doc
        .extract_text_chunks_with_limit(&[1], READ_INFLATE_LIMIT)
        .into_iter()
        .flatten()
        .collect();
    claims_in_cover_text(&text)
}

fn claims_in_cover_text(text: &str) -> Claims {
    Claims {
        report_no: printed_after(text, REPORT_NO_LABEL),
        verification_code: printed_after(text, CODE_LABEL)
            .or_else(|| printed_after(text, CODE_LABEL_BEFORE_2026_12)),
        snapshot_digest: None,
        ..Claims::default()
    }
}

/// The first value printed after `label`: a run of ASCII letters, digits,
/// hyphens and inner spaces on one line, within a few characters of it.
fn printed_after(text: &str, label: &str) -> Option<String> {
    text.match_indices(label).find_map(|(at, _)| {
        let rest = &text[at + label.len()..];
        let start = rest
            .char_indices()
            .take(LABEL_GAP_CHARS)
            .find(|(_, c)| c.is_ascii_alphanumeric())
            .map(|(i, _)| i)?;
        let value: String = rest[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ' ')
            .take(MAX_CLAIM_CHARS + 1)
            .collect();
        sanitize(&value)
    })
}

/// A claimed value worth reporting: non-empty, short, no control characters.
fn sanitize(value: &str) -> Option<String> {
    let value = value.trim();
    let ok = !value.is_empty()
        && value.chars().count() <= MAX_CLAIM_CHARS
        && !value.chars().any(char::is_control);
    ok.then(|| value.to_owned())
}

/// The first source that has each field wins; disagreement is flagged.
/// Codes are compared as verifiers type them: without spaces and hyphens.
fn merge(sources: &[Claims]) -> Claims {
    fn distinct(
        values: impl Iterator<Item = Option<String>>,
        key: fn(&str) -> String,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for value in values.flatten() {
            if !out.iter().any(|seen| key(seen) == key(&value)) {
                out.push(value);
            }
        }
        out
    }
    let exact = |s: &str| s.to_owned();
    let code_key = |s: &str| s.chars().filter(|c| *c != ' ' && *c != '-').collect();
    let all_report_nos = distinct(sources.iter().map(|s| s.report_no.clone()), exact);
    let all_codes = distinct(
        sources.iter().map(|s| s.verification_code.clone()),
        code_key,
    );
    let digests = distinct(sources.iter().map(|s| s.snapshot_digest.clone()), exact);
    Claims {
        report_no: all_report_nos.first().cloned(),
        verification_code: all_codes.first().cloned(),
        snapshot_digest: digests.first().cloned(),
        conflicting: all_report_nos.len() > 1 || all_codes.len() > 1 || digests.len() > 1,
        all_report_nos,
        all_codes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_value_is_found_after_its_label() {
        let text = "报告编号：YC-20261129-000123\n核验码（区分大小写）\nK7mQ-2xWp-9RtZ\n";
        assert_eq!(
            printed_after(text, REPORT_NO_LABEL).as_deref(),
            Some("YC-20261129-000123")
        );
        assert_eq!(
            printed_after(text, CODE_LABEL).as_deref(),
            Some("K7mQ-2xWp-9RtZ")
        );
        assert_eq!(printed_after("核验码：", CODE_LABEL), None);
    }

    #[test]
    fn covers_printed_before_the_word_was_unified_still_name_their_code() {
        let old = claims_in_cover_text(
            "报告编号：YC-20261129-000123\n验证码（区分大小写）\nK7mQ-2xWp-9RtZ\n",
        );
        assert_eq!(old.verification_code.as_deref(), Some("K7mQ-2xWp-9RtZ"));
        assert_eq!(old.report_no.as_deref(), Some("YC-20261129-000123"));
    }

    #[test]
    fn xmp_properties_read_in_element_and_attribute_form() {
        assert_eq!(
            xmp_property("<r:ReportNo>A&amp;B</r:ReportNo>", "ReportNo").as_deref(),
            Some("A&B")
        );
        assert_eq!(
            xmp_property("<d r:ReportNo=\"YC-1\"/>", "ReportNo").as_deref(),
            Some("YC-1")
        );
        assert_eq!(xmp_property("<r:ReportNo>", "ReportNo"), None);
    }

    #[test]
    fn disagreeing_sources_are_flagged_but_hyphenation_is_not_a_conflict() {
        let a = Claims {
            verification_code: Some("K7mQ-2xWp".into()),
            ..Default::default()
        };
        let b = Claims {
            verification_code: Some("K7mQ 2xWp".into()),
            ..Default::default()
        };
        let c = Claims {
            report_no: Some("YC-1".into()),
            ..Default::default()
        };
        let d = Claims {
            report_no: Some("YC-2".into()),
            ..Default::default()
        };
        assert!(!merge(&[a.clone(), b]).conflicting);
        let merged = merge(&[a, c, d]);
        assert!(merged.conflicting);
        assert_eq!(merged.report_no.as_deref(), Some("YC-1"));
        assert_eq!(merged.all_report_nos, ["YC-1", "YC-2"]);
    }

    #[test]
    fn only_comments_after_the_last_eof_marker_are_cut() {
        let pdf = b"%PDF-1.7\n1 0 obj\nnull\nendobj\nstartxref\n9\n%%EOF";
        let with = |tail: &[u8]| [&pdf[..], tail].concat();
        assert_eq!(without_trailing_comments(pdf), pdf);
        for padding in [&b"\n"[..], b"%xxxx\n", b"\r\n%a\n\n  %b\r"] {
            assert_eq!(
                without_trailing_comments(&with(padding)),
                pdf,
                "{padding:?}"
            );
        }
        assert_eq!(
            without_trailing_comments(&with(b"\n%%EOF junk\n%c")),
            with(b"\n%%EOF")
        );
        let update = with(b"\n2 0 obj\nnull\nendobj\n%pad\n");
        assert_eq!(without_trailing_comments(&update), update);
        assert_eq!(
            without_trailing_comments(b"%PDF-1.7 %%EOF"),
            b"%PDF-1.7 %%EOF"
        );
        assert_eq!(without_trailing_comments(b""), b"");
    }

    #[test]
    fn a_truncated_copy_names_its_report_from_the_packet_near_its_start() {
        let head = b"%PDF-1.7\n2 0 obj\n<</Type/Metadata>>stream\n<report:ReportNo>YC20261129-000001</report:ReportNo>";
        assert_eq!(
            leading_report_no(head).as_deref(),
            Some("YC20261129-000001")
        );
        // Cut inside the value: nothing is guessed.
        assert_eq!(leading_report_no(&head[..head.len() - 25]), None);
        assert_eq!(leading_report_no(&head[9..]), None);
        let far = [
            &b"%PDF-1.7\n"[..],
            &vec![b' '; LEADING_SCAN_BYTES],
            &head[9..],
        ]
        .concat();
        assert_eq!(leading_report_no(&far), None);
    }

    #[test]
    fn original_prefix_is_detected_only_when_something_follows_it() {
        let original = b"%PDF-1.7 original".to_vec();
        let hex = hex(&Sha256::digest(&original));
        let mut appended = original.clone();
        appended.extend_from_slice(b"\nupdate");
        assert!(extends_original(&appended, original.len() as u64, &hex));
        assert!(!extends_original(&original, original.len() as u64, &hex));
        appended[3] ^= 1;
        assert!(!extends_original(&appended, original.len() as u64, &hex));
        assert!(!extends_original(&appended, u64::MAX, &hex));
    }
}
