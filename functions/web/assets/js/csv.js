// RFC 4180 CSV, and the mapping from the 双公示 standard's Chinese columns to the API's record fields.

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

/** Chinese column names (双公示 standard and list entries) to API field names. */
export const COLUMNS = {
  行政相对人名称: 'entity_name', 名称: 'entity_name', 市场主体名称: 'entity_name',
  行政相对人类别: 'entity_category',
  统一社会信用代码: 'uscc', 行政相对人代码_1: 'uscc', '行政相对人代码_1(统一社会信用代码)': 'uscc',
  法定代表人: 'legal_representative',
  行政处罚决定书文号: 'document_no', 决定文书号: 'document_no', 文书号: 'document_no',
  违法行为类型: 'violation_type', 违法事实: 'facts', 处罚依据: 'legal_basis',
  处罚类别: 'penalty_categories', 处罚内容: 'penalty_content',
  '罚款金额（万元）': 'fine_wan_yuan', 罚款金额: 'fine_wan_yuan',
  '没收违法所得、没收非法财物的金额（万元）': 'confiscated_wan_yuan', '没收违法所得/非法财物金额（万元）': 'confiscated_wan_yuan',
  '没收违法所得、非法财物金额（万元）': 'confiscated_wan_yuan', 没收金额: 'confiscated_wan_yuan',
  暂扣或吊销证照名称及编号: 'license_action',
  处罚决定日期: 'decided_on', 处罚有效期: 'penalty_valid_until', 公示截止期: 'publicity_until',
  处罚机关: 'authority', 作出决定机关: 'authority', 认定部门: 'authority',
  处罚机关统一社会信用代码: 'authority_uscc', 认定部门统一社会信用代码: 'authority_uscc',
  数据来源单位: 'source_unit', 数据来源单位统一社会信用代码: 'source_unit_uscc',
  备注: 'note', 程序: 'procedure', 处罚程序: 'procedure', 不予处罚: 'not_penalized', 不予行政处罚: 'not_penalized',
  严重程度: 'severity', 违法行为严重程度: 'severity',
  名单名称: 'list_name', 列入原因: 'reason', 认定依据: 'basis', 列入日期: 'listed_on', 移出日期: 'removed_on',
  领域: 'domain', 类型: 'kind',
};

const FIELD_NAMES = new Set(Object.values(COLUMNS).concat(['id']));

const VALUE_CODES = {
  kind: { 行政处罚: 'penalty', 严重失信主体名单: 'dishonest_list', 严重违法失信主体名单: 'dishonest_list', 经营异常名录: 'abnormal_list' },
  procedure: { 普通程序: 'general', 普通: 'general', 一般程序: 'general', 一般: 'general', 简易程序: 'simplified', 简易: 'simplified' },
  severity: { 轻微: 'minor', 一般: 'general', 严重: 'serious' },
};

const DATE_FIELDS = new Set(['decided_on', 'penalty_valid_until', 'publicity_until', 'listed_on', 'removed_on']);

/** Full-width brackets and stray spaces vary between spreadsheets; compare names without them. */
function normalizeHeader(name) {
  return name.trim().replace(/\(/g, '（').replace(/\)/g, '）').replace(/\s+/g, '');
}

const NORMALIZED = new Map(Object.entries(COLUMNS).map(([k, v]) => [normalizeHeader(k), v]));

/** 2024/3/5, 2024.3.5 and 2024年3月5日 become 2024-03-05; anything else is left for the service to judge. */
function normalizeDate(value) {
  const m = value.match(/^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/);
  return m ? `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}` : value;
}

function convert(field, raw) {
  const value = raw.trim();
  if (field === 'penalty_categories') return value.split(/[；;]/).map((s) => s.trim()).filter(Boolean);
  if (field === 'not_penalized') return ['是', 'true', '1', 'TRUE', 'True'].includes(value);
  if (field === 'removed_on' && value === '') return null;
  if (DATE_FIELDS.has(field)) return normalizeDate(value);
  return VALUE_CODES[field]?.[value] ?? value;
}

/**
 * Fills in what the desk chose for records that do not say: domain, kind and, for penalties, the
 * procedure (the 双公示 standard has no column for it, the service requires it).
 */
function applyDefaults(record, defaults) {
  if (!record.domain && defaults.domain) record.domain = defaults.domain;
  if (!record.kind && defaults.kind) record.kind = defaults.kind;
  if (record.kind === 'penalty' && !record.procedure && defaults.procedure) record.procedure = defaults.procedure;
}

/**
 * Turns CSV text into records for PUT /api/v1/records. Columns may carry the Chinese names or the
 * API's field names. Empty cells are left out so the service names the missing field.
 * Returns { items: [{ line, record }], ignored: [column names] } or { error }.
 */
export function csvToRecords(text, defaults = {}) {
  const parsed = parseCsv(text);
  if (parsed.error) return { error: parsed.error };
  const [header, ...body] = parsed.rows;
  if (!header) return { error: '没有内容：CSV 首行应为列名。' };
  const fields = header.cells.map((name) => {
    const key = normalizeHeader(name);
    return NORMALIZED.get(key) ?? (FIELD_NAMES.has(key) ? key : null);
  });
  const ignored = header.cells.filter((_, i) => !fields[i]).map((n) => n.trim()).filter(Boolean);
  if (!fields.some(Boolean)) return { error: 'CSV 首行没有可识别的列名，请使用“双公示”标准的中文列名。' };
  const items = body.map(({ line, cells }) => {
    const record = {};
    fields.forEach((field, i) => {
      if (!field || cells[i] === undefined) return;
      if (cells[i].trim() === '' && field !== 'removed_on') return;
      record[field] = convert(field, cells[i]);
    });
    applyDefaults(record, defaults);
    return { line, record };
  });
  return { items, ignored };
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

/** Picks the format from the content: JSON starts with [ or {, anything else is CSV. */
export function textToRecords(text, defaults) {
  const start = text.replace(/^\uFEFF/, '').trimStart()[0];
  return start === '[' || start === '{' ? jsonToRecords(text.replace(/^\uFEFF/, ''), defaults) : csvToRecords(text, defaults);
}

/** The header row of a CSV template, in the standard's order. */
export const TEMPLATE_COLUMNS = ['行政相对人名称', '行政相对人类别', '统一社会信用代码', '法定代表人', '行政处罚决定书文号',
  '违法行为类型', '违法事实', '处罚依据', '处罚类别', '处罚内容', '罚款金额（万元）', '没收违法所得、没收非法财物的金额（万元）',
  '暂扣或吊销证照名称及编号', '处罚决定日期', '处罚有效期', '公示截止期', '处罚机关', '处罚机关统一社会信用代码',
  '数据来源单位', '数据来源单位统一社会信用代码', '备注', '处罚程序', '领域', '类型'];
