//! Page layout: turns a [`ReportDocument`] into positioned drawing operations
//! on A4 pages. Coordinates are PDF points, origin at the bottom left.

use qrcode::{Color, EcLevel, QrCode};

use super::font::{FontId, Fonts};
use super::line_break::{wrap, wrap_indented};
use super::{CODE_LABEL, REPORT_NO_LABEL, RenderError, ReportDocument, Sealing};

pub(crate) const PAGE_WIDTH: f32 = 595.28;
pub(crate) const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 56.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
const RIGHT: f32 = PAGE_WIDTH - MARGIN_X;
const CONTENT_TOP: f32 = PAGE_HEIGHT - 72.0;
const CONTENT_BOTTOM: f32 = 72.0;
const CELL_PAD: f32 = 4.0;
const BODY_SIZE: f32 = 10.5;
const RED: [f32; 3] = [0.72, 0.05, 0.05];
const BLACK: [f32; 3] = [0.0, 0.0, 0.0];
const GRAY_TEXT: [f32; 3] = [0.3, 0.3, 0.3];
/// The result of a domain no unit supplies data for: it was not looked up.
const NOT_COLLECTED: &str = "暂无归集数据（见报告说明）";

pub(crate) enum Op {
    Text {
        font: FontId,
        size: f32,
        x: f32,
        y: f32,
        text: String,
        color: [f32; 3],
    },
    /// Filled rectangles `[x, y, w, h]` in one gray level (0 = black).
    Fill {
        gray: f32,
        rects: Vec<[f32; 4]>,
    },
    Stroke {
        width: f32,
        rect: [f32; 4],
    },
    Line {
        width: f32,
        from: [f32; 2],
        to: [f32; 2],
    },
    /// The seal image, `[x, y, w, h]`.
    SealImage {
        rect: [f32; 4],
    },
}

#[derive(Default)]
pub(crate) struct Page {
    pub(crate) ops: Vec<Op>,
}

pub(crate) fn lay_out(
    doc: &ReportDocument,
    sealing: Option<&Sealing>,
    fonts: &Fonts,
) -> Result<Vec<Page>, RenderError> {
    let mut b = Builder {
        fonts,
        pages: Vec::new(),
        y: CONTENT_TOP,
        header: None,
    };
    b.cover(doc, sealing)?;
    b.header = Some(format!("{}（{}）", doc.title, doc.edition));
    b.notes(doc);
    b.results(doc);
    b.records(doc);
    b.footers(doc);
    Ok(b.pages)
}

#[derive(Clone)]
struct Cell {
    width: f32,
    font: FontId,
    lines: Vec<String>,
    fill: Option<f32>,
    color: [f32; 3],
    /// Red text set flush right on the cell's first line, e.g. 【异议处理中】.
    badge: Option<String>,
}

struct Builder<'f> {
    fonts: &'f Fonts,
    pages: Vec<Page>,
    /// Top of the free space on the current page.
    y: f32,
    /// Running header of every page after the cover.
    header: Option<String>,
}

impl Builder<'_> {
    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = CONTENT_TOP;
        if let Some(header) = self.header.clone() {
            let baseline = PAGE_HEIGHT - 42.0;
            self.text(FontId::Sans, 9.0, MARGIN_X, baseline, &header, GRAY_TEXT);
            self.line(0.6, [MARGIN_X, baseline - 6.0], [RIGHT, baseline - 6.0]);
        }
    }

    fn text(&mut self, font: FontId, size: f32, x: f32, y: f32, text: &str, color: [f32; 3]) {
        if !text.is_empty() {
            self.page().ops.push(Op::Text {
                font,
                size,
                x,
                y,
                text: text.to_owned(),
                color,
            });
        }
    }

    fn centered(&mut self, font: FontId, size: f32, y: f32, text: &str) {
        let width = self.fonts.width(font, text, size);
        self.text(font, size, (PAGE_WIDTH - width) / 2.0, y, text, BLACK);
    }

    fn line(&mut self, width: f32, from: [f32; 2], to: [f32; 2]) {
        self.page().ops.push(Op::Line { width, from, to });
    }

    fn ensure(&mut self, height: f32) {
        if self.y - height < CONTENT_BOTTOM {
            self.new_page();
        }
    }

    fn cover(
        &mut self,
        doc: &ReportDocument,
        sealing: Option<&Sealing>,
    ) -> Result<(), RenderError> {
        self.new_page();
        let fonts = self.fonts;

        // The verification box, top right: what verifiers copy.
        let (box_w, box_h) = (210.0, 78.0);
        let (box_x, box_top) = (RIGHT - box_w, PAGE_HEIGHT - 40.0);
        self.page().ops.push(Op::Stroke {
            width: 1.2,
            rect: [box_x, box_top - box_h, box_w, box_h],
        });
        let inner = box_w - 20.0;
        let report_line = format!("{REPORT_NO_LABEL}：{}", doc.report_no);
        let report_size = fit_size(fonts, FontId::Sans, &report_line, inner, 9.5);
        self.text(
            FontId::Sans,
            report_size,
            box_x + 10.0,
            box_top - 18.0,
            &report_line,
            BLACK,
        );
        self.text(
            FontId::Sans,
            9.5,
            box_x + 10.0,
            box_top - 35.0,
            &format!("{CODE_LABEL}（区分大小写）"),
            GRAY_TEXT,
        );
        let code_size = fit_size(fonts, FontId::Mono, &doc.verification_code, inner, 20.0);
        self.text(
            FontId::Mono,
            code_size,
            box_x + 10.0,
            box_top - 62.0,
            &doc.verification_code,
            BLACK,
        );

        self.centered(FontId::Sans, 36.0, 610.0, &doc.title);
        self.centered(FontId::Sans, 18.0, 570.0, &format!("（{}）", doc.edition));

        let rows = [
            ("主体名称", &doc.entity_name),
            ("统一社会信用代码", &doc.uscc),
            ("报告期间", &doc.period),
            ("报告用途", &doc.purpose),
            ("出具日期", &doc.issued_on),
            ("有效期至", &doc.valid_until),
            ("出具机构", &doc.issuer),
        ];
        let (label_right, value_x, size) = (MARGIN_X + 150.0, MARGIN_X + 162.0, 12.0);
        let mut y = 480.0;
        for (label, value) in rows {
            let label_width = fonts.width(FontId::Sans, label, size);
            self.text(
                FontId::Sans,
                size,
                label_right - label_width,
                y,
                label,
                GRAY_TEXT,
            );
            self.text(FontId::Sans, size, label_right + 1.0, y, "：", GRAY_TEXT);
            for line in wrap(fonts, FontId::Sans, size, value, RIGHT - 20.0 - value_x) {
                self.text(FontId::Sans, size, value_x, y, &line, BLACK);
                y -= size * 1.5;
            }
            y -= 9.0;
        }
        if let Some(sealing) = sealing {
            self.seal_block(sealing, (y + 6.0).min(282.0));
        }

        // QR code bottom right, with the link and the code spelled out beside it.
        let qr = QrCode::with_error_correction_level(doc.verify_url.as_bytes(), EcLevel::M)
            .map_err(|e| RenderError::QrCode(e.to_string()))?;
        let modules = qr.width();
        let quiet = 2.0;
        let size = 96.0;
        let module = size / (modules as f32 + 2.0 * quiet);
        let (qr_x, qr_y) = (RIGHT - size, 92.0);
        let mut rects = Vec::new();
        for (row, colors) in qr.to_colors().chunks(modules).enumerate() {
            let top = qr_y + size - (quiet + row as f32) * module;
            let mut col = 0;
            while col < modules {
                if colors[col] == Color::Dark {
                    let start = col;
                    while col < modules && colors[col] == Color::Dark {
                        col += 1;
                    }
                    let x = qr_x + (quiet + start as f32) * module;
                    rects.push([x, top - module, (col - start) as f32 * module, module]);
                } else {
                    col += 1;
                }
            }
        }
        self.page().ops.push(Op::Fill { gray: 0.0, rects });
        let caption_width = RIGHT - size - 16.0 - MARGIN_X;
        let mut y = qr_y + size - 12.0;
        for line in wrap(
            fonts,
            FontId::Sans,
            9.5,
            "本报告可扫描右侧二维码核验，或访问以下网址并输入右上角的核验码：",
            caption_width,
        ) {
            self.text(FontId::Sans, 9.5, MARGIN_X, y, &line, GRAY_TEXT);
            y -= 14.0;
        }
        for line in wrap(fonts, FontId::Sans, 9.0, &doc.verify_url, caption_width) {
            self.text(FontId::Sans, 9.0, MARGIN_X, y, &line, BLACK);
            y -= 13.0;
        }
        Ok(())
    }

    /// The visible signature block between the cover's facts and its QR
    /// code: who sealed, when, and how to check the seal offline.
    fn seal_block(&mut self, sealing: &Sealing, top: f32) {
        const IMAGE_HEIGHT: f32 = 56.0;
        let fonts = self.fonts;
        let image_width = sealing.seal.image().map_or(0.0, |image| {
            (IMAGE_HEIGHT * image.aspect()).min(2.0 * IMAGE_HEIGHT)
        });
        let inner = CONTENT_WIDTH
            - 20.0
            - if image_width > 0.0 {
                image_width + 10.0
            } else {
                0.0
            };
        let mut lines = vec![(
            12.0,
            RED,
            format!("电子签章　{}", sealing.seal.certificates().signer()),
        )];
        lines.push((
            9.5,
            GRAY_TEXT,
            format!(
                "签章时间：{}（北京时间）",
                sealing
                    .signed_at
                    .with_timezone(&crate::window::china())
                    .format("%Y年%m月%d日 %H:%M:%S")
            ),
        ));
        let how = format!(
            "离线核验：用 PDF 阅读器（如 Adobe Acrobat Reader）打开本文件，在签名面板查看签章有效、文件未被修改；签章证书链见 {}",
            sealing.certificates_url
        );
        for line in wrap(fonts, FontId::Sans, 9.0, &how, inner) {
            lines.push((9.0, GRAY_TEXT, line));
        }
        let text_height: f32 = lines.iter().map(|(size, ..)| size * 1.45).sum::<f32>() + 10.0;
        let height = if image_width > 0.0 {
            text_height.max(IMAGE_HEIGHT + 10.0)
        } else {
            text_height
        };
        self.page().ops.push(Op::Stroke {
            width: 0.8,
            rect: [MARGIN_X, top - height, CONTENT_WIDTH, height],
        });
        if image_width > 0.0 {
            self.page().ops.push(Op::SealImage {
                rect: [
                    RIGHT - 5.0 - image_width,
                    top - (height + IMAGE_HEIGHT) / 2.0,
                    image_width,
                    IMAGE_HEIGHT,
                ],
            });
        }
        let mut baseline = top - 4.0;
        for (size, color, text) in lines {
            baseline -= size * 1.45;
            self.text(FontId::Sans, size, MARGIN_X + 10.0, baseline, &text, color);
        }
    }

    fn heading(&mut self, text: &str) {
        self.ensure(60.0);
        self.y -= 20.0;
        self.text(FontId::Sans, 14.0, MARGIN_X, self.y, text, BLACK);
        self.y -= 14.0;
    }

    fn paragraph(&mut self, text: &str, size: f32, indent: bool) {
        let leading = size * 1.7;
        let indent = if indent { size * 2.0 } else { 0.0 };
        let mut first = true;
        for line in wrap_indented(self.fonts, FontId::Sans, size, text, CONTENT_WIDTH, indent) {
            self.ensure(leading);
            self.y -= leading;
            let x = if first { MARGIN_X + indent } else { MARGIN_X };
            self.text(FontId::Sans, size, x, self.y, &line, BLACK);
            first = false;
        }
        self.y -= size * 0.6;
    }

    fn notes(&mut self, doc: &ReportDocument) {
        self.new_page();
        self.y -= 24.0;
        self.centered(FontId::Sans, 18.0, self.y, "报告说明");
        self.y -= 16.0;
        for note in &doc.notes {
            self.paragraph(note, 11.0, true);
        }
    }

    fn results(&mut self, doc: &ReportDocument) {
        self.new_page();
        self.heading("一、信用记录查询结果");
        let widths = [36.0, 150.0, 160.0, CONTENT_WIDTH - 346.0];
        let header: Vec<Cell> = ["序号", "领域", "责任单位", "查询结果"]
            .into_iter()
            .zip(widths)
            .map(|(title, width)| self.cell(width, FontId::Sans, title, Some(0.9), BLACK))
            .collect();
        self.row(header.clone(), None);
        for (i, domain) in doc.domains.iter().enumerate() {
            let (result, color) = if !domain.collected {
                (NOT_COLLECTED.to_owned(), GRAY_TEXT)
            } else if domain.records.is_empty() {
                ("无违法违规记录".to_owned(), BLACK)
            } else {
                (format!("{}条记录", domain.records.len()), RED)
            };
            let cells = vec![
                self.cell(widths[0], FontId::Sans, &(i + 1).to_string(), None, BLACK),
                self.cell(widths[1], FontId::Sans, &domain.name, None, BLACK),
                self.cell(widths[2], FontId::Sans, &domain.unit, None, BLACK),
                self.cell(widths[3], FontId::Sans, &result, None, color),
            ];
            self.row(cells, Some(&header));
        }
        let with_records = doc.domains.iter().filter(|d| !d.records.is_empty()).count();
        let total: usize = doc.domains.iter().map(|d| d.records.len()).sum();
        let looked_up = doc.domains.iter().filter(|d| d.collected).count();
        let not_collected = doc.domains.len() - looked_up;
        let summary = if not_collected == 0 {
            format!("共查询{looked_up}个领域，其中{with_records}个领域有记录，共{total}条记录。")
        } else {
            format!(
                "共选择{}个领域，其中{not_collected}个领域暂无归集数据、未作查询（见报告说明）；共查询{looked_up}个领域，其中{with_records}个领域有记录，共{total}条记录。",
                doc.domains.len()
            )
        };
        self.y -= 6.0;
        self.paragraph(&summary, BODY_SIZE, false);
    }

    fn records(&mut self, doc: &ReportDocument) {
        self.heading("二、记录明细");
        let records = doc
            .domains
            .iter()
            .flat_map(|d| d.records.iter().map(move |r| (d, r)));
        let mut number = 0;
        for (domain, record) in records {
            number += 1;
            self.ensure(80.0);
            self.y -= 10.0;
            let title = format!("第{number}条　{}", record.kind);
            let status = record.status_label.as_deref();
            let heading = self.record_heading(&title, status);
            self.row(vec![heading], None);
            // A page the record's rows continue on opens with its heading,
            // so no row reads as part of the record before.
            let continued = [self.record_heading(&format!("{title}（续）"), status)];
            let label_width = 150.0;
            let mut rows = vec![
                (
                    "所属领域".to_owned(),
                    format!("{}（{}）", domain.name, domain.unit),
                ),
                ("文书编号".to_owned(), record.document_no.clone()),
            ];
            rows.extend(
                record
                    .fields
                    .iter()
                    .filter(|(_, v)| *v != record.document_no)
                    .cloned(),
            );
            for (label, value) in rows {
                let cells = vec![
                    self.cell(label_width, FontId::Sans, &label, Some(0.95), GRAY_TEXT),
                    self.cell(
                        CONTENT_WIDTH - label_width,
                        FontId::Sans,
                        &value,
                        None,
                        BLACK,
                    ),
                ];
                self.row(cells, Some(&continued));
            }
        }
        if number == 0 {
            self.paragraph(&no_records_sentence(doc), BODY_SIZE, true);
        }
    }

    fn cell(
        &self,
        width: f32,
        font: FontId,
        text: &str,
        fill: Option<f32>,
        color: [f32; 3],
    ) -> Cell {
        let lines = wrap(self.fonts, font, BODY_SIZE, text, width - 2.0 * CELL_PAD);
        Cell {
            width,
            font,
            lines,
            fill,
            color,
            badge: None,
        }
    }

    /// The one-line heading row of a record: "第N条　行政处罚", its status
    /// flush right.
    fn record_heading(&self, title: &str, status_label: Option<&str>) -> Cell {
        let mut heading = self.cell(CONTENT_WIDTH, FontId::Sans, title, Some(0.85), BLACK);
        heading.lines.truncate(1);
        heading.badge = status_label.map(|s| format!("【{s}】"));
        heading
    }

    /// Draws one table row at the cursor, left-aligned to the margin. A row
    /// that does not fit moves to the next page; a row taller than a page is
    /// split between lines. Either way the next page opens with `repeat`
    /// (the table header, or the record's heading).
    fn row(&mut self, mut cells: Vec<Cell>, repeat: Option<&[Cell]>) {
        let leading = BODY_SIZE * 1.4;
        let page_lines = ((CONTENT_TOP - CONTENT_BOTTOM - 2.0 * CELL_PAD) / leading) as usize;
        loop {
            let needed = cells
                .iter()
                .map(|c| c.lines.len().max(1))
                .max()
                .unwrap_or(1);
            let available =
                ((self.y - CONTENT_BOTTOM - 2.0 * CELL_PAD) / leading).max(0.0) as usize;
            if needed > available && (needed <= page_lines || available == 0) {
                self.new_page();
                if let Some(header) = repeat {
                    self.row(header.to_vec(), None);
                }
                continue;
            }
            let take = needed.min(available);
            let height = take as f32 * leading + 2.0 * CELL_PAD;
            let mut x = MARGIN_X;
            let top = self.y;
            let mut rest = Vec::new();
            for cell in &mut cells {
                let rect = [x, top - height, cell.width, height];
                if let Some(gray) = cell.fill {
                    self.page().ops.push(Op::Fill {
                        gray,
                        rects: vec![rect],
                    });
                }
                self.page().ops.push(Op::Stroke { width: 0.5, rect });
                let remaining = cell.lines.split_off(take.min(cell.lines.len()));
                let mut baseline = top - CELL_PAD - BODY_SIZE * 0.9;
                for line in &cell.lines {
                    self.text(
                        cell.font,
                        BODY_SIZE,
                        x + CELL_PAD,
                        baseline,
                        line,
                        cell.color,
                    );
                    baseline -= leading;
                }
                if let Some(badge) = &cell.badge {
                    let badge_width = self.fonts.width(FontId::Sans, badge, BODY_SIZE);
                    self.text(
                        FontId::Sans,
                        BODY_SIZE,
                        x + cell.width - CELL_PAD - badge_width,
                        top - CELL_PAD - BODY_SIZE * 0.9,
                        badge,
                        RED,
                    );
                }
                rest.push(remaining);
                x += cell.width;
            }
            self.y -= height;
            if rest.iter().all(Vec::is_empty) {
                return;
            }
            for (cell, lines) in cells.iter_mut().zip(rest) {
                cell.lines = lines;
            }
            self.new_page();
            if let Some(header) = repeat {
                self.row(header.to_vec(), None);
            }
        }
    }

    fn footers(&mut self, doc: &ReportDocument) {
        let total = self.pages.len();
        let fonts = self.fonts;
        for number in 1..=total {
            let ops = &mut self.pages[number - 1].ops;
            let baseline = 40.0;
            ops.push(Op::Line {
                width: 0.6,
                from: [MARGIN_X, baseline + 12.0],
                to: [RIGHT, baseline + 12.0],
            });
            let mut put = |font, x: f32, text: String| {
                ops.push(Op::Text {
                    font,
                    size: 8.5,
                    x,
                    y: baseline,
                    text,
                    color: GRAY_TEXT,
                })
            };
            put(
                FontId::Sans,
                MARGIN_X,
                format!("{REPORT_NO_LABEL}：{}", doc.report_no),
            );
            let page = format!("第{number}页/共{total}页");
            put(
                FontId::Sans,
                (PAGE_WIDTH - fonts.width(FontId::Sans, &page, 8.5)) / 2.0,
                page,
            );
            let code_width = fonts.width(FontId::Mono, &doc.verification_code, 8.5);
            let label = format!("{CODE_LABEL}：");
            let label_width = fonts.width(FontId::Sans, &label, 8.5);
            put(FontId::Sans, RIGHT - code_width - label_width, label);
            put(
                FontId::Mono,
                RIGHT - code_width,
                doc.verification_code.clone(),
            );
        }
    }
}

/// What the record details say when there are none: only the domains that
/// were looked up are certified clean.
fn no_records_sentence(doc: &ReportDocument) -> String {
    let not_collected: Vec<&str> = doc
        .domains
        .iter()
        .filter(|d| !d.collected)
        .map(|d| d.name.as_str())
        .collect();
    if not_collected.is_empty() {
        "报告期间内，所查询领域均无违法违规记录。".to_owned()
    } else if not_collected.len() == doc.domains.len() {
        "所选领域均暂无归集数据，本报告未作查询，不表明无违法违规记录。".to_owned()
    } else {
        format!(
            "报告期间内，已查询的领域均无违法违规记录；{}领域暂无归集数据，未作查询。",
            not_collected.join("、")
        )
    }
}

/// The largest size up to `max` at which `text` fits in `width`.
fn fit_size(fonts: &Fonts, font: FontId, text: &str, width: f32, max: f32) -> f32 {
    let natural = fonts.width(font, text, max);
    if natural <= width {
        max
    } else {
        (max * width / natural).max(4.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::sample::{THIRTY_PAGES, sample_document};

    /// Each page's text, in drawing order, without separators: a table row
    /// reads as its cells' text one after the other.
    fn page_texts(doc: &ReportDocument) -> Vec<String> {
        page_runs(doc)
            .into_iter()
            .map(|runs| runs.concat())
            .collect()
    }

    /// Each page's text runs, in drawing order.
    fn page_runs(doc: &ReportDocument) -> Vec<Vec<String>> {
        let fonts = Fonts::load().unwrap();
        lay_out(doc, None, &fonts)
            .unwrap()
            .into_iter()
            .map(|page| {
                page.ops
                    .into_iter()
                    .filter_map(|op| match op {
                        Op::Text { text, .. } => Some(text),
                        _ => None,
                    })
                    .collect()
            })
            .collect()
    }

    /// The sample with 商务 (third, no unit in 附件1) as the catalog has it.
    fn with_commerce_not_collected(records: usize) -> ReportDocument {
        let mut doc = sample_document(records);
        assert_eq!(doc.domains[2].name, "商务");
        doc.domains[2].collected = false;
        doc
    }

    #[test]
    fn a_domain_without_collected_data_is_not_certified_clean() {
        let doc = with_commerce_not_collected(0);
        let text = page_texts(&doc).concat();
        assert!(
            text.contains("3商务县商务局暂无归集数据（见报告说明）4科技县科技局无违法违规记录"),
            "{text}"
        );
        assert!(!text.contains("商务县商务局无违法违规记录"));
        assert!(text.contains(
            "共选择20个领域，其中1个领域暂无归集数据、未作查询（见报告说明）；共查询19个领域，其中0个领域有记录，共0条记录。"
        ));
        assert!(text.contains(
            "报告期间内，已查询的领域均无违法违规记录；商务领域暂无归集数据，未作查询。"
        ));
        assert!(!text.contains("所查询领域均无违法违规记录"));
    }

    #[test]
    fn a_report_of_uncollected_domains_only_certifies_nothing() {
        let mut doc = with_commerce_not_collected(0);
        doc.domains.retain(|d| !d.collected);
        let text = page_texts(&doc).concat();
        assert!(text.contains("共选择1个领域，其中1个领域暂无归集数据"));
        assert!(text.contains("所选领域均暂无归集数据，本报告未作查询，不表明无违法违规记录。"));
        assert!(!text.contains("均无违法违规记录"), "{text}");
    }

    #[test]
    fn collected_domains_keep_their_wording() {
        let text = page_texts(&sample_document(0)).concat();
        assert!(text.contains("共查询20个领域，其中0个领域有记录，共0条记录。"));
        assert!(text.contains("报告期间内，所查询领域均无违法违规记录。"));
        assert!(!text.contains("暂无归集数据"));
    }

    #[test]
    fn a_record_continued_on_the_next_page_repeats_its_heading_there() {
        let doc = sample_document(THIRTY_PAGES);
        let pages = page_runs(&doc);
        let first = pages
            .iter()
            .position(|runs| runs.iter().any(|t| t == "二、记录明细"))
            .unwrap();
        let is_heading = |t: &str| t.starts_with('第') && t.contains("条　行政处罚");
        // The heading seen last, and the status printed beside it.
        let mut last: Option<(String, Option<String>)> = None;
        let mut continued = 0;
        for (number, runs) in pages.iter().enumerate().skip(first) {
            // runs[0] is the running header; the footer comes last.
            let top = &runs[1];
            if number > first {
                assert!(
                    is_heading(top),
                    "page {} opens with {top:?}, not a record heading",
                    number + 1
                );
                if let Some(heading) = top.strip_suffix("（续）") {
                    let (previous, status) = last.clone().unwrap();
                    assert_eq!(heading, previous, "page {}", number + 1);
                    assert_eq!(runs.get(2).filter(|t| t.starts_with('【')), status.as_ref());
                    continued += 1;
                }
            }
            for (i, run) in runs.iter().enumerate() {
                if is_heading(run) && !run.ends_with("（续）") {
                    let status = runs.get(i + 1).filter(|t| t.starts_with('【')).cloned();
                    last = Some((run.clone(), status));
                }
            }
        }
        assert!(continued > 0, "the sample has records that cross a page");
        assert!(
            pages[first + 1..]
                .iter()
                .any(|runs| runs[1].contains("（续）") && runs[2] == "【异议处理中】")
        );
    }
}
