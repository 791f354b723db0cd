//! The embedded WenQuanYi Micro Hei faces: measuring text for layout, and
//! turning the glyphs a document used into subset Type0 fonts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat};
use sha2::{Digest, Sha256};
use ttf_parser::cmap::{Format, Subtable};
use ttf_parser::{Face, GlyphId};

use super::RenderError;
use super::flate::flate;

/// WenQuanYi Micro Hei (Apache-2.0, see `assets/fonts/wqy-microhei.COPYRIGHT`):
/// face 0 is the proportional Micro Hei, face 1 the monospaced Micro Hei Mono.
const COLLECTION: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei.ttc");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FontId {
    Sans,
    /// Used where people copy characters by eye: the verification code.
    Mono,
}

impl FontId {
    fn index(self) -> u32 {
        match self {
            FontId::Sans => 0,
            FontId::Mono => 1,
        }
    }

    pub(crate) fn resource_name(self) -> &'static str {
        match self {
            FontId::Sans => "F1",
            FontId::Mono => "F2",
        }
    }

    fn base_name(self) -> &'static str {
        match self {
            FontId::Sans => "WenQuanYiMicroHei",
            FontId::Mono => "WenQuanYiMicroHeiMono",
        }
    }
}

pub(crate) struct Fonts {
    sans: Face<'static>,
    mono: Face<'static>,
    /// Each face's Unicode character map, looked up once: `Face::glyph_index`
    /// searches the subtable list on every call, which showed in profiles.
    sans_cmap: Option<Subtable<'static>>,
    mono_cmap: Option<Subtable<'static>>,
}

impl Fonts {
    pub(crate) fn load() -> Result<Self, RenderError> {
        let parse = |id: FontId| {
            Face::parse(COLLECTION, id.index()).map_err(|e| RenderError::Font(e.to_string()))
        };
        let (sans, mono) = (parse(FontId::Sans)?, parse(FontId::Mono)?);
        Ok(Self {
            sans_cmap: unicode_cmap(&sans),
            mono_cmap: unicode_cmap(&mono),
            sans,
            mono,
        })
    }

    fn face(&self, id: FontId) -> &Face<'static> {
        match id {
            FontId::Sans => &self.sans,
            FontId::Mono => &self.mono,
        }
    }

    /// The glyph for `ch`; 0 (.notdef, a box) when the font lacks it.
    pub(crate) fn glyph(&self, id: FontId, ch: char) -> u16 {
        let cmap = match id {
            FontId::Sans => &self.sans_cmap,
            FontId::Mono => &self.mono_cmap,
        };
        let glyph = match cmap {
            Some(cmap) => cmap.glyph_index(u32::from(ch)),
            None => self.face(id).glyph_index(ch),
        };
        glyph.map_or(0, |g| g.0)
    }

    /// Advance width of `ch` in thousandths of the font size.
    pub(crate) fn advance(&self, id: FontId, ch: char) -> f32 {
        self.glyph_advance(id, self.glyph(id, ch))
    }

    fn glyph_advance(&self, id: FontId, glyph: u16) -> f32 {
        let face = self.face(id);
        let units = face.glyph_hor_advance(GlyphId(glyph)).unwrap_or(0);
        f32::from(units) * 1000.0 / f32::from(face.units_per_em().max(1))
    }

    pub(crate) fn width(&self, id: FontId, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(id, c)).sum::<f32>() * size / 1000.0
    }

    fn scaled(&self, id: FontId, units: i16) -> i64 {
        i64::from(units) * 1000 / i64::from(self.face(id).units_per_em().max(1))
    }
}

/// The face's full-Unicode (format 12) map if it has one, else its BMP map.
fn unicode_cmap(face: &Face<'static>) -> Option<Subtable<'static>> {
    let subtables = face.tables().cmap?.subtables;
    let unicode = || subtables.into_iter().filter(|s| s.is_unicode());
    unicode()
        .find(|s| matches!(s.format, Format::SegmentedCoverage(_)))
        .or_else(|| unicode().find(|s| !matches!(s.format, Format::UnicodeVariationSequences(_))))
}

/// The glyphs one font face used in a document, and the subset CIDs they get.
pub(crate) struct UsedGlyphs {
    id: FontId,
    /// Old glyph id -> the first character drawn with it, for ToUnicode.
    chars: BTreeMap<u16, char>,
    remapper: subsetter::GlyphRemapper,
}

impl UsedGlyphs {
    pub(crate) fn new(id: FontId) -> Self {
        Self {
            id,
            chars: Default::default(),
            remapper: subsetter::GlyphRemapper::new(),
        }
    }

    pub(crate) fn add(&mut self, fonts: &Fonts, text: &str) {
        for ch in text.chars() {
            let glyph = fonts.glyph(self.id, ch);
            if glyph != 0 {
                self.chars.entry(glyph).or_insert(ch);
            }
        }
    }

    /// Freezes the CID assignment: ascending old glyph ids, so the same set
    /// always gets the same CIDs.
    pub(crate) fn finish(&mut self) {
        let glyphs: Vec<u16> = self.chars.keys().copied().collect();
        self.remapper = subsetter::GlyphRemapper::new_from_glyphs_sorted(&glyphs);
    }

    /// Hex string operand (`<...>`) drawing `text` with the subset CIDs.
    pub(crate) fn encode(&self, fonts: &Fonts, text: &str, out: &mut String) {
        out.push('<');
        for ch in text.chars() {
            let cid = self.remapper.get(fonts.glyph(self.id, ch)).unwrap_or(0);
            let _ = write!(out, "{cid:04X}");
        }
        out.push('>');
    }

    /// Adds the Type0 font and its parts to `doc`; returns the Type0 font's id.
    pub(crate) fn embed(&self, fonts: &Fonts, doc: &mut Document) -> Result<ObjectId, RenderError> {
        let id = self.id;
        let subset = subsetter::subset(COLLECTION, id.index(), &self.remapper)
            .map_err(|e| RenderError::Font(format!("{e:?}")))?;
        let name = format!("{}+{}", self.subset_tag(), id.base_name());

        let mut file = Stream::new(
            Dictionary::from_iter([("Length1", Object::Integer(subset.len() as i64))]),
            subset,
        );
        file = flate(file);
        let file_id = doc.add_object(file);

        let face = fonts.face(id);
        let bbox = face.global_bounding_box();
        let descriptor = Dictionary::from_iter([
            ("Type", Object::Name(b"FontDescriptor".to_vec())),
            ("FontName", Object::Name(name.clone().into_bytes())),
            (
                "Flags",
                Object::Integer(if id == FontId::Mono { 5 } else { 4 }),
            ),
            (
                "FontBBox",
                Object::Array(
                    [bbox.x_min, bbox.y_min, bbox.x_max, bbox.y_max]
                        .iter()
                        .map(|v| Object::Integer(fonts.scaled(id, *v)))
                        .collect(),
                ),
            ),
            ("ItalicAngle", Object::Integer(0)),
            ("Ascent", Object::Integer(fonts.scaled(id, face.ascender()))),
            (
                "Descent",
                Object::Integer(fonts.scaled(id, face.descender())),
            ),
            (
                "CapHeight",
                Object::Integer(fonts.scaled(id, face.capital_height().unwrap_or(face.ascender()))),
            ),
            ("StemV", Object::Integer(80)),
            ("FontFile2", Object::Reference(file_id)),
        ]);
        let descriptor_id = doc.add_object(descriptor);

        // CIDs are 0..n in remapped order, so one run lists every width.
        let widths: Vec<Object> = self
            .remapper
            .remapped_gids()
            .map(|old| Object::Integer(fonts.glyph_advance(id, old).round() as i64))
            .collect();
        let cid_font = Dictionary::from_iter([
            ("Type", Object::Name(b"Font".to_vec())),
            ("Subtype", Object::Name(b"CIDFontType2".to_vec())),
            ("BaseFont", Object::Name(name.clone().into_bytes())),
            (
                "CIDSystemInfo",
                Object::Dictionary(Dictionary::from_iter([
                    (
                        "Registry",
                        Object::String(b"Adobe".to_vec(), StringFormat::Literal),
                    ),
                    (
                        "Ordering",
                        Object::String(b"Identity".to_vec(), StringFormat::Literal),
                    ),
                    ("Supplement", Object::Integer(0)),
                ])),
            ),
            ("FontDescriptor", Object::Reference(descriptor_id)),
            ("DW", Object::Integer(1000)),
            (
                "W",
                Object::Array(vec![Object::Integer(0), Object::Array(widths)]),
            ),
            ("CIDToGIDMap", Object::Name(b"Identity".to_vec())),
        ]);
        let cid_font_id = doc.add_object(cid_font);

        let to_unicode_id = doc.add_object(flate(Stream::new(
            Dictionary::new(),
            self.to_unicode_cmap().into_bytes(),
        )));

        Ok(doc.add_object(Dictionary::from_iter([
            ("Type", Object::Name(b"Font".to_vec())),
            ("Subtype", Object::Name(b"Type0".to_vec())),
            ("BaseFont", Object::Name(name.into_bytes())),
            ("Encoding", Object::Name(b"Identity-H".to_vec())),
            (
                "DescendantFonts",
                Object::Array(vec![Object::Reference(cid_font_id)]),
            ),
            ("ToUnicode", Object::Reference(to_unicode_id)),
        ])))
    }

    /// Six capital letters derived from the glyph set (PDF 32000 §9.6.4), so
    /// the tag is stable for the same document.
    fn subset_tag(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update([self.id.index() as u8]);
        for glyph in self.chars.keys() {
            hasher.update(glyph.to_be_bytes());
        }
        hasher
            .finalize()
            .iter()
            .take(6)
            .map(|b| char::from(b'A' + b % 26))
            .collect()
    }

    fn to_unicode_cmap(&self) -> String {
        let mut entries: Vec<(u16, char)> = self
            .chars
            .iter()
            .filter_map(|(old, ch)| self.remapper.get(*old).map(|cid| (cid, *ch)))
            .collect();
        entries.sort_unstable();
        let mut cmap = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        for chunk in entries.chunks(100) {
            let _ = writeln!(cmap, "{} beginbfchar", chunk.len());
            for (cid, ch) in chunk {
                let mut units = [0u16; 2];
                let utf16: String = ch
                    .encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("{u:04X}"))
                    .collect();
                let _ = writeln!(cmap, "<{cid:04X}> <{utf16}>");
            }
            cmap.push_str("endbfchar\n");
        }
        cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        cmap
    }
}
