//! Records as department systems export them: CSV with the 双公示 column
//! names (or the API's field names), UTF-8 with or without BOM, or GB18030.
//! Each row becomes the JSON object the record parser reads, so a CSV row
//! and the same record in JSON get the same answer.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fields::field_of_column;
use crate::error::Error;
use crate::text::without_bom;

/// One data row: the line of the file it starts on (1-based, as an editor
/// shows it) and the record object made of its cells.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    pub line: u64,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    pub rows: Vec<CsvRow>,
    /// For each field a column named, the column's name as the file writes
    /// it, so a problem names the column the unit sees.
    pub columns: BTreeMap<String, String>,
}

/// The fields a batch may give once for every row that leaves them out
/// (`?kind=&domain=&procedure=`): the 双公示 columns do not carry them.
pub const DEFAULTABLE: [&str; 3] = ["kind", "domain", "procedure"];

/// The text of a CSV body: UTF-8 (a BOM is dropped), else GB18030, as
/// spreadsheets on Chinese Windows save it.
pub fn decode(body: &[u8]) -> Result<String, Error> {
    let body = without_bom(body);
    if let Ok(text) = std::str::from_utf8(body) {
        return Ok(text.to_owned());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(body);
    if had_errors {
        return Err(Error::InvalidCsv {
            line: None,
            detail: "文件既不是 UTF-8 也不是 GB18030 编码，请另存为“CSV UTF-8”".into(),
        });
    }
    Ok(text.into_owned())
}

/// Reads a CSV body into record objects. Cells are trimmed; a blank cell is
/// left out, so the parser names a missing required field. Columns that
/// name no field are kept under their own name and warned by the parser.
pub fn read(body: &[u8], defaults: &[(&str, String)]) -> Result<CsvTable, Error> {
    let text = decode(body)?;
    if let Some(quote) = unclosed_quote(text.as_bytes()) {
        return Err(Error::InvalidCsv {
            line: Some(LineCounter::new(text.as_bytes()).line_at(quote as u64)),
            detail: "引号未闭合：以引号开头的单元格缺少结束引号，之后的各行都会被读进这一格".into(),
        });
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(csv_error)?.clone();
    let mut names: Vec<String> = Vec::with_capacity(headers.len());
    let mut columns: BTreeMap<String, String> = BTreeMap::new();
    for header in headers.iter() {
        let header = header.trim_start_matches('\u{feff}').trim();
        let name = match field_of_column(header) {
            Some(field) => {
                if let Some(first) = columns.insert(field.to_owned(), header.to_owned()) {
                    return Err(Error::InvalidCsv {
                        line: Some(1),
                        detail: format!("列“{first}”和“{header}”都是字段 {field}，请只保留一列"),
                    });
                }
                field.to_owned()
            }
            None => header.to_owned(),
        };
        names.push(name);
    }
    if columns.is_empty() {
        return Err(Error::InvalidCsv {
            line: Some(1),
            detail: "首行没有可识别的列名，请使用“双公示”标准的中文列名（见 CSV 模板）".into(),
        });
    }
    let mut rows = Vec::new();
    let mut lines = LineCounter::new(text.as_bytes());
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        let mut object = Map::new();
        for (name, cell) in names.iter().zip(record.iter()) {
            let cell = cell.trim();
            if !cell.is_empty() && !name.is_empty() {
                object.insert(name.clone(), Value::String(cell.to_owned()));
            }
        }
        if object.is_empty() {
            continue;
        }
        for (field, value) in defaults {
            object
                .entry(field.to_string())
                .or_insert_with(|| Value::String(value.clone()));
        }
        rows.push(CsvRow {
            line,
            value: Value::Object(object),
        });
    }
    Ok(CsvTable { rows, columns })
}

/// The byte offset of a quote that opens a cell and is never closed, read
/// as the csv crate reads it: a quote opens a quoted cell only as the
/// cell's first byte, `""` inside one is a quote, and the reader takes an
/// unclosed cell to the end of the file without an error.
fn unclosed_quote(bytes: &[u8]) -> Option<usize> {
    enum State {
        CellStart,
        Unquoted,
        Quoted { opened_at: usize },
        QuoteInQuoted { opened_at: usize },
    }
    let mut state = State::CellStart;
    for (at, byte) in bytes.iter().copied().enumerate() {
        let line_break = byte == b'\n' || byte == b'\r';
        state = match state {
            State::CellStart | State::Unquoted if byte == b',' || line_break => State::CellStart,
            State::CellStart if byte == b'"' => State::Quoted { opened_at: at },
            State::CellStart | State::Unquoted => State::Unquoted,
            State::Quoted { opened_at } if byte == b'"' => State::QuoteInQuoted { opened_at },
            State::Quoted { opened_at } => State::Quoted { opened_at },
            State::QuoteInQuoted { opened_at } if byte == b'"' => State::Quoted { opened_at },
            State::QuoteInQuoted { .. } if byte == b',' || line_break => State::CellStart,
            // The csv crate keeps what follows a closing quote as plain text.
            State::QuoteInQuoted { .. } => State::Unquoted,
        };
    }
    match state {
        State::Quoted { opened_at } => Some(opened_at),
        _ => None,
    }
}

/// Numbers the lines records start on, counting forward from the previous
/// record, so numbering a whole file reads it once. The reader's own line
/// count stops short after a CRLF, and its record offset may point at the
/// line breaks before the record.
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Where counting stopped, and the line that offset is on.
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The 1-based line a record starting at `byte` begins on; `byte` may
    /// not be before the previous record's.
    fn line_at(&mut self, byte: u64) -> u64 {
        let bytes = self.bytes;
        let mut start = usize::try_from(byte)
            .unwrap_or(bytes.len())
            .clamp(self.offset, bytes.len());
        while bytes.get(start).is_some_and(|b| *b == b'\r' || *b == b'\n') {
            start += 1;
        }
        let breaks = (self.offset..start)
            .filter(|&i| {
                bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
            })
            .count();
        self.offset = start;
        self.line += breaks as u64;
        self.line
    }
}

fn csv_error(error: csv::Error) -> Error {
    let line = error.position().map(|p| p.line());
    let detail = match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "文本编码不正确".to_owned(),
        _ => "CSV 格式不正确（引号未闭合或分隔符有误）".to_owned(),
    };
    Error::InvalidCsv { line, detail }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chinese_columns_become_fields_and_lines_are_the_file_lines() {
        let body = "\u{feff}行政相对人名称,统一社会信用代码, 罚款金额(万元) ,某自定义列\r\n\
                    甲公司,91350200776049653A,0.2,x\r\n\r\n\
                    \"乙公司\n分部\",91440101MA5CJQ4N59,,\r\n丙公司\r\n";
        let table = read(body.as_bytes(), &[("kind", "penalty".into())]).unwrap();
        assert_eq!(table.columns["fine_wan_yuan"], "罚款金额(万元)");
        assert_eq!(table.rows.len(), 3);
        assert_eq!(table.rows[2].line, 6);
        assert_eq!(table.rows[0].line, 2);
        assert_eq!(
            table.rows[0].value,
            json!({"entity_name": "甲公司", "uscc": "91350200776049653A",
                   "fine_wan_yuan": "0.2", "某自定义列": "x", "kind": "penalty"})
        );
        assert_eq!(table.rows[1].line, 4);
        assert_eq!(table.rows[1].value["entity_name"], "乙公司\n分部");
        assert!(table.rows[1].value.get("fine_wan_yuan").is_none());
    }

    #[test]
    fn gb18030_is_read_and_garbage_is_refused() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("行政相对人名称,备注\n甲公司,无\n");
        let table = read(&bytes, &[]).unwrap();
        assert_eq!(table.rows[0].value["entity_name"], "甲公司");
        assert_eq!(table.rows[0].value["note"], "无");
        assert_eq!(
            read(b"\xff\xff\xff,\x81\n", &[]).unwrap_err().code(),
            "INVALID_CSV"
        );
    }

    #[test]
    fn a_header_without_known_columns_or_with_a_field_twice_is_refused() {
        assert_eq!(
            read("a,b\n1,2\n".as_bytes(), &[]).unwrap_err().code(),
            "INVALID_CSV"
        );
        let twice = read("文书号,决定文书号\n1,2\n".as_bytes(), &[]).unwrap_err();
        assert!(twice.to_string().contains("document_no"), "{twice}");
    }

    #[test]
    fn an_unclosed_quote_is_refused_on_the_line_it_opens() {
        let body = "行政相对人名称,备注\r\n甲公司,\"无\r\n\"\"乙\"\"\"\r\n丙公司,\"未闭合\n丁公司,x\n戊公司,y\n";
        let error = read(body.as_bytes(), &[]).unwrap_err();
        assert_eq!(error.code(), "INVALID_CSV");
        assert!(
            matches!(error, Error::InvalidCsv { line: Some(4), .. }),
            "{error:?}"
        );
        let header = read("\"行政相对人名称,备注\n甲公司,无\n".as_bytes(), &[]).unwrap_err();
        assert!(
            matches!(header, Error::InvalidCsv { line: Some(1), .. }),
            "{header:?}"
        );
    }

    #[test]
    fn quotes_that_open_no_cell_or_are_closed_are_text() {
        let body = "行政相对人名称,备注\n甲\"公司,\"说\"\"明\"\"\"\n\"乙公司\"分部,\"\"\n";
        let table = read(body.as_bytes(), &[]).unwrap();
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0].value["entity_name"], "甲\"公司");
        assert_eq!(table.rows[0].value["note"], "说\"明\"");
        assert_eq!(table.rows[1].value["entity_name"], "乙公司分部");
        assert_eq!(table.rows[1].line, 3);
    }

    #[test]
    fn a_long_file_is_numbered_in_one_pass() {
        let rows = 200_000;
        let mut body = String::from("行政相对人名称,备注\r\n");
        for n in 0..rows {
            body.push_str(&format!("公司{n},\"第\n{n}\"\r\n,\r\n\r"));
        }
        let table = read(body.as_bytes(), &[]).unwrap();
        assert_eq!(table.rows.len(), rows);
        let last = &table.rows[rows - 1];
        assert_eq!(last.value["entity_name"], format!("公司{}", rows - 1));
        // Each row takes four lines: its two, a blank row and a lone CR.
        assert_eq!(last.line, 2 + 4 * (rows as u64 - 1));
    }
}
