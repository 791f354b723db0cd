// The batch formats of the desk: JSON and NDJSON become records here; CSV goes to the service as it is and is
// read here only to show each row beside the service's answer.

/**
 * Parses CSV text: quoted fields with "" escapes, commas and line breaks inside quotes, CRLF/LF/CR
 * line ends, a leading BOM. Returns { rows: [{ line, cells }] } where `line` is the 1-based line
 * on which the row starts, or { error, line } for an unterminated quote. Blank lines are skipped.
 */
export function parseCsv(text) {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const rows = [];
  let cells = [];
  let cell = '';
  let quoted = false;
  let atFieldStart = true;
  let rowHasQuote = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0] !== '' || rowHasQuote) rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
    atFieldStart = true;
    rowHasQuote = false;
  };
  for (let i = 0; i < src.length; i += 1) {
    const c = src[i];
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') { cell += '"'; i += 1; } else quoted = false;
      } else {
        if (c === '\n' || (c === '\r' && src[i + 1] !== '\n')) line += 1;
        cell += c;
      }
    } else if (c === '"' && atFieldStart) {
      quoted = true;
      atFieldStart = false;
      rowHasQuote = true;
      quoteLine = line;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
      atFieldStart = true;
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && src[i + 1] === '\n') i += 1;
      endRow();
      line += 1;
      rowLine = line;
    } else {
      // A quote inside an unquoted field is kept as written, as spreadsheets export it.
      cell += c;
      atFieldStart = false;
    }
  }
  if (quoted) return { error: `第 ${quoteLine} 行的引号没有闭合`, line: quoteLine };
  if (cell !== '' || cells.length || rowHasQuote) endRow();
  return { rows };
}

/** Column names compare without spaces and with full-width brackets, as the service compares them. */
function normalizeHeader(name) {
  return name.trim().replace(/\(/g, '（').replace(/\)/g, '）').replace(/\s+/g, '');
}

/**
 * The field each column names, by the service's own column table (`record_fields` of the catalog):
 * the 双公示 name, another accepted name or the API field name. Returns field → column index.
 */
export function columnIndex(headerCells, recordFields) {
  const byName = new Map();
  for (const kind of recordFields || []) {
    for (const f of kind.fields || []) {
      for (const name of [f.name, f.column, ...(f.aliases || [])]) byName.set(normalizeHeader(name), f.name);
    }
  }
  const index = {};
  headerCells.forEach((cell, i) => {
    const field = byName.get(normalizeHeader(cell));
    if (field && !(field in index)) index[field] = i;
  });
  return index;
}

/**
 * What the desk shows of each CSV row beside the service's answer for its line: the document number and
 * the entity name. The service reads the CSV itself (PUT /api/v1/records as text/csv), so the page and the
 * API judge the same file the same way. Returns Map(line → { document_no, entity_name }).
 */
export function csvRowsByLine(text, recordFields) {
  const parsed = parseCsv(text);
  const rows = new Map();
  if (parsed.error || !parsed.rows.length) return rows;
  const [header, ...body] = parsed.rows;
  const at = columnIndex(header.cells, recordFields);
  const cell = (cells, field) => (at[field] === undefined ? '' : (cells[at[field]] || '').trim());
  for (const { line, cells } of body) {
    rows.set(line, { document_no: cell(cells, 'document_no'), entity_name: cell(cells, 'entity_name') });
  }
  return rows;
}

/**
 * Fills in what the desk chose for JSON records that do not say: domain, kind and, for penalties, the
 * procedure (CSV gets the same choices as query parameters, applied by the service).
 */
function applyDefaults(record, defaults) {
  if (!record.domain && defaults.domain) record.domain = defaults.domain;
  if (!record.kind && defaults.kind) record.kind = defaults.kind;
  if (record.kind === 'penalty' && !record.procedure && defaults.procedure) record.procedure = defaults.procedure;
}

/** JSON array or NDJSON; line numbers are the NDJSON lines, or the array positions (1-based). */
export function jsonToRecords(text, defaults = {}) {
  const trimmed = text.trim();
  let list;
  let lines;
  if (trimmed.startsWith('[')) {
    try { list = JSON.parse(trimmed); } catch (e) { return { error: `JSON 格式错误：${e.message}` }; }
    if (!Array.isArray(list)) return { error: 'JSON 应为记录数组。' };
    lines = list.map((_, i) => i + 1);
  } else {
    list = [];
    lines = [];
    const rows = text.split(/\r\n|\n|\r/);
    for (let i = 0; i < rows.length; i += 1) {
      if (!rows[i].trim()) continue;
      try { list.push(JSON.parse(rows[i])); } catch { return { error: `第 ${i + 1} 行不是有效的 JSON 对象。` }; }
      lines.push(i + 1);
    }
  }
  const items = list.map((item, i) => {
    const record = item && typeof item === 'object' && !Array.isArray(item) ? { ...item } : item;
    if (record && typeof record === 'object') applyDefaults(record, defaults);
    return { line: lines[i], record };
  });
  return { items, ignored: [] };
}

/** The format of the text: JSON starts with [, NDJSON with {, anything else is CSV. */
export function textFormat(text) {
  const start = text.replace(/^\uFEFF/, '').trimStart()[0];
  return start === '[' ? 'json' : start === '{' ? 'ndjson' : 'csv';
}

const lineBreaks = (raw) => raw.split(/\r\n|\n|\r/).length - 1;

/**
 * A large CSV as batches the service takes (at most `maxRows` rows and about `maxBytes` of UTF-8 each),
 * each its own CSV: the header row, then its rows exactly as written (a quoted field may span lines).
 * Each batch maps the lines of its body back to the lines of the whole file, so the service's `line`
 * answers name the file's lines. Returns { batches: [{ body, rows, lines: Map(batchLine → fileLine) }],
 * rowCount } or { error, line } as parseCsv does.
 */
export function csvBatches(text, { maxRows, maxBytes }) {
  const checked = parseCsv(text);
  if (checked.error) return checked;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const raws = [];
  let quoted = false;
  let rowStart = 0;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i <= src.length; i += 1) {
    const c = src[i];
    if (i < src.length && c === '"') quoted = !quoted;
    const end = i === src.length || (!quoted && (c === '\n' || c === '\r'));
    if (!end) continue;
    const raw = src.slice(rowStart, i);
    if (raw !== '') raws.push({ line: rowLine, raw });
    line += lineBreaks(raw) + (i < src.length ? 1 : 0);
    if (c === '\r' && src[i + 1] === '\n') i += 1;
    rowStart = i + 1;
    rowLine = line;
  }
  if (!raws.length) return { batches: [], rowCount: 0 };
  const [header, ...rows] = raws;
  const encoder = new TextEncoder();
  const headerBytes = encoder.encode(header.raw).length + 1;
  const firstLine = lineBreaks(header.raw) + 2;
  const batches = [];
  let current = null;
  for (const row of rows) {
    const bytes = encoder.encode(row.raw).length + 1;
    if (!current || current.rows.length >= maxRows || (current.rows.length && current.bytes + bytes > maxBytes)) {
      current = { rows: [], bytes: headerBytes, lines: new Map(), next: firstLine };
      batches.push(current);
    }
    current.rows.push(row.raw);
    current.bytes += bytes;
    current.lines.set(current.next, row.line);
    current.next += lineBreaks(row.raw) + 1;
  }
  return {
    rowCount: rows.length,
    batches: batches.map((b) => ({ body: `${header.raw}\n${b.rows.join('\n')}\n`, rows: b.rows.length, lines: b.lines })),
  };
}
