//! Serialises laid-out pages into a deterministic PDF file.

use std::fmt::Write as _;

use lopdf::xref::XrefType;
use lopdf::{Dictionary, Document, Object, Stream, StringFormat, text_string};
use sha2::{Digest, Sha256};

use super::flate::flate;
use super::font::{FontId, Fonts, UsedGlyphs};
use super::layout::{Op, PAGE_HEIGHT, PAGE_WIDTH, Page};
use super::sign::{BYTE_RANGE_PLACEHOLDER, pdf_date as signature_date};
use super::{
    INFO_CODE, INFO_DIGEST, INFO_REPORT_NO, RenderError, ReportDocument, SealImage, Sealing,
    XMP_NAMESPACE, XMP_PREFIX,
};

pub(crate) fn assemble(
    report: &ReportDocument,
    pages: &[Page],
    fonts: &Fonts,
    sealing: Option<&Sealing>,
) -> Result<Vec<u8>, RenderError> {
    let mut sans = UsedGlyphs::new(FontId::Sans);
    let mut mono = UsedGlyphs::new(FontId::Mono);
    for op in pages.iter().flat_map(|p| &p.ops) {
        if let Op::Text { font, text, .. } = op {
            match font {
                FontId::Sans => sans.add(fonts, text),
                FontId::Mono => mono.add(fonts, text),
            }
        }
    }
    sans.finish();
    mono.finish();

    let mut doc = Document::with_version("1.7");
    // A classic cross-reference table: readable by every verifier tool, and
    // the same bytes on every platform.
    doc.reference_table.cross_reference_type = XrefType::CrossReferenceTable;
    let pages_id = doc.new_object_id();
    // Objects are written in number order: the XMP packet (not deflated,
    // naming the report) comes right after the page tree's number, so a copy
    // cut short by a dropped connection still names its report in its first
    // KiB (file verification's INCOMPLETE, crate::inspect::leading_report_no).
    let metadata_id = doc.new_object_id();
    let sans_id = sans.embed(fonts, &mut doc)?;
    let mono_id = mono.embed(fonts, &mut doc)?;
    let mut resources = Dictionary::from_iter([(
        "Font",
        Object::Dictionary(Dictionary::from_iter([
            (FontId::Sans.resource_name(), Object::Reference(sans_id)),
            (FontId::Mono.resource_name(), Object::Reference(mono_id)),
        ])),
    )]);
    if let Some(image) = sealing.and_then(|s| s.seal.image()) {
        let picture = image_xobject(&mut doc, image);
        let image_id = doc.add_object(picture);
        resources.set(
            "XObject",
            Object::Dictionary(Dictionary::from_iter([(
                SEAL_IMAGE_RESOURCE,
                Object::Reference(image_id),
            )])),
        );
    }
    let resources_id = doc.add_object(resources);

    // The signature field: an invisible widget on the cover (the cover
    // draws the visible block itself).
    let seal_field_id = sealing.map(|_| doc.new_object_id());
    let mut kids = Vec::with_capacity(pages.len());
    for page in pages {
        let content = content_stream(page, fonts, &sans, &mono);
        let content_id =
            doc.add_object(flate(Stream::new(Dictionary::new(), content.into_bytes())));
        let mut page = Dictionary::from_iter([
            ("Type", Object::Name(b"Page".to_vec())),
            ("Parent", Object::Reference(pages_id)),
            (
                "MediaBox",
                Object::Array(vec![
                    0.into(),
                    0.into(),
                    Object::Real(PAGE_WIDTH),
                    Object::Real(PAGE_HEIGHT),
                ]),
            ),
            ("Resources", Object::Reference(resources_id)),
            ("Contents", Object::Reference(content_id)),
        ]);
        if let (Some(field_id), true) = (seal_field_id, kids.is_empty()) {
            page.set("Annots", Object::Array(vec![Object::Reference(field_id)]));
        }
        kids.push(Object::Reference(doc.add_object(page)));
    }
    let acro_form = match (sealing, seal_field_id, kids.first()) {
        (Some(sealing), Some(field_id), Some(Object::Reference(cover_id))) => {
            let signature_id = doc.add_object(signature_dictionary(sealing));
            doc.objects.insert(
                field_id,
                Object::Dictionary(Dictionary::from_iter([
                    ("FT", Object::Name(b"Sig".to_vec())),
                    ("T", Object::string_literal("ReportSeal")),
                    ("V", Object::Reference(signature_id)),
                    ("Type", Object::Name(b"Annot".to_vec())),
                    ("Subtype", Object::Name(b"Widget".to_vec())),
                    (
                        "Rect",
                        Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
                    ),
                    // Print and Locked.
                    ("F", Object::Integer(132)),
                    ("P", Object::Reference(*cover_id)),
                ])),
            );
            Some(Dictionary::from_iter([
                ("Fields", Object::Array(vec![Object::Reference(field_id)])),
                // SignaturesExist and AppendOnly.
                ("SigFlags", Object::Integer(3)),
            ]))
        }
        _ => None,
    };
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(Dictionary::from_iter([
            ("Type", Object::Name(b"Pages".to_vec())),
            ("Kids", Object::Array(kids)),
            ("Count", Object::Integer(count)),
        ])),
    );

    let title = format!("{}（{}）{}", report.title, report.edition, report.report_no);
    let created = pdf_date(&report.issued_on);
    let producer = concat!("credit-core ", env!("CARGO_PKG_VERSION"));
    // Not deflated, so that generic tools find the packet by scanning.
    let xmp_stream = Stream::new(
        Dictionary::from_iter([
            ("Type", Object::Name(b"Metadata".to_vec())),
            ("Subtype", Object::Name(b"XML".to_vec())),
        ]),
        xmp(
            report,
            &title,
            producer,
            created.as_ref().map(|d| d.1.as_str()),
        )
        .into_bytes(),
    );
    doc.objects.insert(metadata_id, Object::Stream(xmp_stream));
    let mut catalog = Dictionary::from_iter([
        ("Type", Object::Name(b"Catalog".to_vec())),
        ("Pages", Object::Reference(pages_id)),
        ("Metadata", Object::Reference(metadata_id)),
        (
            "Lang",
            Object::String(b"zh-CN".to_vec(), StringFormat::Literal),
        ),
        (
            "ViewerPreferences",
            Object::Dictionary(Dictionary::from_iter([(
                "DisplayDocTitle",
                Object::Boolean(true),
            )])),
        ),
    ]);
    if let Some(acro_form) = acro_form {
        catalog.set("AcroForm", Object::Dictionary(acro_form));
    }
    let catalog_id = doc.add_object(catalog);

    let mut info = Dictionary::from_iter([
        ("Title", text_string(&title)),
        ("Subject", text_string(&report.entity_name)),
        ("Author", text_string(&report.issuer)),
        ("Producer", text_string(producer)),
        (INFO_REPORT_NO, text_string(&report.report_no)),
        (INFO_CODE, text_string(&report.verification_code)),
        (INFO_DIGEST, text_string(&report.snapshot_digest)),
    ]);
    if let Some((pdf, _)) = &created {
        info.set(
            "CreationDate",
            Object::String(pdf.clone().into_bytes(), StringFormat::Literal),
        );
        info.set(
            "ModDate",
            Object::String(pdf.clone().into_bytes(), StringFormat::Literal),
        );
    }
    let info_id = doc.add_object(info);

    let file_id = document_id(report);
    doc.trailer.set("Root", Object::Reference(catalog_id));
    doc.trailer.set("Info", Object::Reference(info_id));
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            Object::String(file_id.to_vec(), StringFormat::Hexadecimal),
            Object::String(file_id.to_vec(), StringFormat::Hexadecimal),
        ]),
    );

    let mut out = Vec::new();
    doc.save_to(&mut out)
        .map_err(|e| RenderError::Write(e.to_string()))?;
    if let Some(sealing) = sealing {
        sealing.seal.sign_in_place(&mut out)?;
    }
    Ok(out)
}

/// The name the pages' resources give the seal image.
const SEAL_IMAGE_RESOURCE: &str = "SealImage";

/// The seal image as an image XObject, its alpha channel as a soft mask.
fn image_xobject(doc: &mut Document, image: &SealImage) -> Stream {
    let samples = |color_space: &[u8], data: Vec<u8>| {
        flate(Stream::new(
            Dictionary::from_iter([
                ("Type", Object::Name(b"XObject".to_vec())),
                ("Subtype", Object::Name(b"Image".to_vec())),
                ("Width", Object::Integer(image.width.into())),
                ("Height", Object::Integer(image.height.into())),
                ("ColorSpace", Object::Name(color_space.to_vec())),
                ("BitsPerComponent", Object::Integer(8)),
            ]),
            data,
        ))
    };
    let mut picture = samples(b"DeviceRGB", image.rgb.clone());
    if let Some(alpha) = &image.alpha {
        let mask_id = doc.add_object(samples(b"DeviceGray", alpha.clone()));
        picture.dict.set("SMask", Object::Reference(mask_id));
    }
    picture
}

/// The signature dictionary with placeholders for the byte range and the
/// CMS structure, which [`super::sign`] fills in once the file is written.
fn signature_dictionary(sealing: &Sealing) -> Dictionary {
    Dictionary::from_iter([
        ("Type", Object::Name(b"Sig".to_vec())),
        ("Filter", Object::Name(b"Adobe.PPKLite".to_vec())),
        ("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec())),
        (
            "ByteRange",
            Object::Array(BYTE_RANGE_PLACEHOLDER.map(Object::Integer).to_vec()),
        ),
        (
            "Contents",
            Object::String(vec![0; sealing.seal.capacity()], StringFormat::Hexadecimal),
        ),
        (
            "M",
            Object::string_literal(signature_date(&sealing.signed_at)),
        ),
        ("Name", text_string(&sealing.seal.certificates().signer())),
        ("Reason", text_string("电子签章")),
    ])
}

/// The file identifier: a function of the report, never of the clock.
fn document_id(report: &ReportDocument) -> [u8; 16] {
    let hash = Sha256::new()
        .chain_update(report.report_no.as_bytes())
        .chain_update([0])
        .chain_update(report.snapshot_digest.as_bytes())
        .finalize();
    let mut id = [0; 16];
    id.copy_from_slice(&hash[..16]);
    id
}

/// The issue date as a PDF date and an XMP date (China Standard Time), from
/// the first three numbers in e.g. "2026年11月29日" or "2026-11-29".
fn pdf_date(issued_on: &str) -> Option<(String, String)> {
    let mut numbers = issued_on
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    let year: u16 = numbers.next()?.parse().ok()?;
    let month: u8 = numbers.next()?.parse().ok()?;
    let day: u8 = numbers.next()?.parse().ok()?;
    if !(1000..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some((
        format!("D:{year:04}{month:02}{day:02}000000+08'00'"),
        format!("{year:04}-{month:02}-{day:02}T00:00:00+08:00"),
    ))
}

fn xmp(report: &ReportDocument, title: &str, producer: &str, created: Option<&str>) -> String {
    let p = XMP_PREFIX;
    let mut x = String::with_capacity(1200);
    x.push_str("<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n");
    x.push_str("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n");
    let _ = writeln!(
        x,
        "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" \
         xmlns:{p}=\"{XMP_NAMESPACE}\">"
    );
    let _ = writeln!(
        x,
        "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:title>",
        escape(title)
    );
    let _ = writeln!(x, "<dc:format>application/pdf</dc:format>");
    if let Some(created) = created {
        let _ = writeln!(
            x,
            "<xmp:CreateDate>{created}</xmp:CreateDate>\n<xmp:ModifyDate>{created}</xmp:ModifyDate>"
        );
    }
    let _ = writeln!(x, "<pdf:Producer>{}</pdf:Producer>", escape(producer));
    for (name, value) in [
        (INFO_REPORT_NO, &report.report_no),
        (INFO_CODE, &report.verification_code),
        (INFO_DIGEST, &report.snapshot_digest),
    ] {
        let _ = writeln!(x, "<{p}:{name}>{}</{p}:{name}>", escape(value));
    }
    x.push_str("</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"r\"?>");
    x
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn content_stream(page: &Page, fonts: &Fonts, sans: &UsedGlyphs, mono: &UsedGlyphs) -> String {
    let mut out = String::with_capacity(page.ops.len() * 48);
    for op in &page.ops {
        match op {
            Op::Text {
                font,
                size,
                x,
                y,
                text,
                color,
            } => {
                let _ = write!(
                    out,
                    "BT /{} {} Tf {} {} {} rg {} {} Td ",
                    font.resource_name(),
                    num(*size),
                    num(color[0]),
                    num(color[1]),
                    num(color[2]),
                    num(*x),
                    num(*y)
                );
                let glyphs = if *font == FontId::Mono { mono } else { sans };
                glyphs.encode(fonts, text, &mut out);
                out.push_str(" Tj ET\n");
            }
            Op::Fill { gray, rects } => {
                let _ = write!(out, "q {} g", num(*gray));
                for [x, y, w, h] in rects {
                    let _ = write!(out, " {} {} {} {} re", num(*x), num(*y), num(*w), num(*h));
                }
                out.push_str(" f Q\n");
            }
            Op::Stroke {
                width,
                rect: [x, y, w, h],
            } => {
                let _ = writeln!(
                    out,
                    "q {} w {} {} {} {} re S Q",
                    num(*width),
                    num(*x),
                    num(*y),
                    num(*w),
                    num(*h)
                );
            }
            Op::SealImage { rect: [x, y, w, h] } => {
                let _ = writeln!(
                    out,
                    "q {} 0 0 {} {} {} cm /{SEAL_IMAGE_RESOURCE} Do Q",
                    num(*w),
                    num(*h),
                    num(*x),
                    num(*y)
                );
            }
            Op::Line { width, from, to } => {
                let _ = writeln!(
                    out,
                    "q {} w {} {} m {} {} l S Q",
                    num(*width),
                    num(from[0]),
                    num(from[1]),
                    num(to[0]),
                    num(to[1])
                );
            }
        }
    }
    out
}

/// A coordinate with two decimals and no trailing zeros: short, and the same
/// digits on every platform.
fn num(value: f32) -> String {
    let mut s = format!("{value:.2}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".to_owned() } else { s }
}
