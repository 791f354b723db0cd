// Department desk: push a batch of records (CSV / JSON / NDJSON), look up, correct or withdraw what the unit
// submitted, and see the open objections and repairs.
// CSV goes to the service as it is (text/csv), so the desk and the API answer the same file the same way.
import { api, catalog, dateTime, el, fillOptions, getToken, isValidUscc, labels, notice, problemNotice, saveBlob, setupSignIn, show } from './common.js';
import { csvBatches, csvRowsByLine, jsonToRecords, textFormat } from './csv.js';

const BATCH_LIMIT = 1000;
/**
 * Rows and bytes per CSV batch: well under the API's 1000 items and 4 MiB, so that each batch is answered
 * quickly (progress moves, and a dropped connection loses little).
 */
const CSV_BATCH_ROWS = 200;
const CSV_BATCH_BYTES = 1024 * 1024;
/** Where the desk remembers how far a CSV went, per file and choices, to resume without sending a batch twice. */
const PROGRESS_KEY = 'credit-desk-csv-progress:';

let claims = null;
/** The catalog's vocabulary word lists the desk shows, as code → label. */
let resultNames = new Map();
let groundNames = new Map();
let kindNames = new Map();
let statusNames = new Map();
/** Data domain code → name, for every domain (a listing shows only the unit's, but an admin sees all). */
let domainNames = new Map();
/** The service's field table per record kind (catalog `record_fields`): CSV columns, required fields. */
let recordFields = [];

async function loadCatalog() {
  const select = document.getElementById('default-domain');
  const cat = await catalog();
  resultNames = labels(cat, 'item_results');
  groundNames = labels(cat, 'objection_grounds');
  kindNames = labels(cat, 'record_kinds');
  statusNames = labels(cat, 'record_statuses');
  recordFields = Array.isArray(cat?.record_fields) ? cat.record_fields : [];
  showColumns();
  fillOptions(document.getElementById('default-kind'), cat, 'record_kinds');
  fillOptions(document.getElementById('default-procedure'), cat, 'procedures');
  const all = cat?.data_domains || [];
  domainNames = new Map(all.map((d) => [d.code, d.name]));
  const unit = claims?.unit?.trim();
  const mine = unit ? all.filter((d) => d.unit === unit || (d.unit_aliases || []).includes(unit)) : [];
  const options = (mine.length ? mine : all).map((d) => el('option', { value: d.code }, d.name));
  if (!options.length) options.push(el('option', { value: '' }, '（领域目录加载失败，请在记录中填写“领域”列）'));
  show(select, ...options);
}

/** `{summary, results: [{index, status, id?, problem?}]}`: one result per item, put back in item order. */
function batchResults(data, count) {
  const ordered = new Array(count).fill(null);
  const results = Array.isArray(data?.results) ? data.results : [];
  results.forEach((result, i) => {
    const at = Number.isInteger(result?.index) ? result.index : i;
    if (at >= 0 && at < count) ordered[at] = result;
  });
  return ordered;
}

function resultStatus(result) {
  if (!result || typeof result !== 'object') return 'unknown';
  return result.status || (result.problem ? 'rejected' : 'unknown');
}

function resultProblem(result) {
  if (!result || typeof result !== 'object') return { detail: '服务没有返回这一条的结果。' };
  return result.problem && typeof result.problem === 'object' ? result.problem : { detail: '未通过校验' };
}

/** The column table of the chosen kind, as the service reads CSV. */
function showColumns() {
  const kind = document.getElementById('default-kind').value || 'penalty';
  const spec = recordFields.find((k) => k.kind === kind);
  const body = document.getElementById('columns-body');
  if (!spec) return show(body);
  show(body, ...spec.fields.map((f) => el('tr', {},
    el('td', { 'data-label': '列名' }, f.column, f.aliases?.length ? el('div', { class: 'muted' }, `也可：${f.aliases.join('、')}`) : ''),
    el('td', { class: 'mono', 'data-label': '字段' }, f.name),
    el('td', { 'data-label': '必填' }, f.required ? '是' : '否'),
    el('td', { 'data-label': '说明' }, f.description))));
}

/** One problem or warning: its text, the CSV column (or field) it is about, its code. */
function finding(item) {
  const where = item.column ? `（列：${item.column}，字段：${item.field}）` : item.field ? `（字段：${item.field}）` : '';
  return el('li', {}, item.detail || '未通过校验', where && el('span', { class: 'field-name' }, where),
    item.code && el('span', { class: 'muted' }, ` ${item.code}`));
}

function renderResults(items, results, format) {
  const body = document.getElementById('results-body');
  const counts = { created: 0, updated: 0, unchanged: 0, rejected: 0 };
  const rows = items.map(({ line, record }, i) => {
    const result = results[i];
    const status = resultStatus(result);
    counts[status] = (counts[status] || 0) + 1;
    const rejected = status === 'rejected' || status === 'unknown';
    const problems = rejected ? (Array.isArray(result?.problems) && result.problems.length ? result.problems : [resultProblem(result)]) : [];
    const warnings = Array.isArray(result?.warnings) ? result.warnings : [];
    const where = format === 'json' ? `第 ${line} 条` : `第 ${line} 行`;
    const explanation = el('div', {},
      problems.length ? el('ul', { class: 'plain problems' }, ...problems.map(finding)) : '',
      !rejected && result?.id !== undefined ? el('span', { class: 'muted' }, `记录编号 ${result.id}`) : '',
      warnings.length ? el('ul', { class: 'plain warnings' }, ...warnings.map((w) => finding({ ...w, detail: `提示：${w.detail}` }))) : '');
    return el('tr', { class: rejected ? 'rejected' : '', 'data-line': line, 'data-status': status, 'data-warnings': warnings.length },
      el('th', { scope: 'row' }, where),
      el('td', { class: 'mono', 'data-label': '文书号' }, record?.document_no || ''),
      el('td', { 'data-label': '主体名称' }, record?.entity_name || ''),
      el('td', { 'data-label': '结果' }, el('span', { class: `badge ${rejected ? 'rejected' : status}` }, resultNames.get(status) || '无结果')),
      el('td', { 'data-label': '说明' }, explanation));
  });
  show(body, ...rows);
  const rejectedLines = rows.filter((r) => r.classList.contains('rejected')).map((r) => r.firstChild.textContent);
  const warned = rows.filter((r) => r.dataset.warnings !== '0').length;
  document.getElementById('results-summary').textContent =
    `共 ${items.length} 条：新增 ${counts.created} 条，更新 ${counts.updated} 条，未变化 ${counts.unchanged} 条，被拒绝 ${rejectedLines.length} 条。`
    + (rejectedLines.length ? ` 被拒绝：${rejectedLines.slice(0, 20).join('、')}${rejectedLines.length > 20 ? ' 等' : ''}。` : '')
    + (warned ? ` ${warned} 条有提示，请核对。` : '');
  const section = document.getElementById('batch-results');
  section.hidden = false;
  section.focus();
}

async function submitBatch(event) {
  event.preventDefault();
  const status = document.getElementById('batch-status');
  const text = document.getElementById('batch-text').value;
  if (!text.trim()) {
    show(status, notice('error', '请粘贴记录或选择文件。'));
    document.getElementById('batch-text').focus();
    return;
  }
  const defaults = { domain: document.getElementById('default-domain').value, kind: document.getElementById('default-kind').value,
    procedure: document.getElementById('default-procedure').value };
  const button = document.getElementById('batch-submit');
  button.disabled = true;
  try {
    const format = textFormat(text);
    if (format === 'csv') await submitCsv(text, defaults, status);
    else await submitJson(text, defaults, status, format);
  } finally {
    button.disabled = false;
  }
}

/** SHA-256 of the text and the desk's choices: the same file sent with the same choices is the same upload. */
async function uploadKey(text, defaults) {
  const bytes = new TextEncoder().encode(`${JSON.stringify(defaults)}\n${text}`);
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return PROGRESS_KEY + [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function readProgress(key) {
  try {
    const saved = JSON.parse(localStorage.getItem(key) || 'null');
    return saved && Number.isInteger(saved.batchesDone) ? saved : null;
  } catch {
    return null;
  }
}

function showProgress(progress, total) {
  const box = document.getElementById('batch-progress');
  box.hidden = false;
  const bar = document.getElementById('batch-progress-bar');
  bar.max = Math.max(total, 1);
  bar.value = progress.sent;
  box.dataset.sent = progress.sent;
  box.dataset.accepted = progress.accepted;
  box.dataset.rejected = progress.rejected;
  document.getElementById('batch-progress-text').textContent =
    `已发送 ${progress.sent} / ${total} 行（第 ${progress.batchesDone} 批，共 ${progress.batches} 批）：接受 ${progress.accepted} 行，拒绝 ${progress.rejected} 行。`;
}

/**
 * CSV as it is: the service maps the columns, applies the chosen defaults and names each row by its line. A
 * large file goes out in batches of 200 rows, each with the header row; after each acknowledged
 * batch the desk remembers (localStorage, by the file's SHA-256) how far it went, so the page can be left and
 * the same file sent again to resume after the last acknowledged batch. Records are upserted by
 * (domain, kind, document_no), so even a batch sent twice would change nothing.
 */
async function submitCsv(text, defaults, status) {
  const split = csvBatches(text, { maxRows: CSV_BATCH_ROWS, maxBytes: CSV_BATCH_BYTES });
  if (split.error) return show(status, notice('error', `${split.error}，未提交。`));
  if (!split.rowCount) return show(status, notice('error', '没有找到记录：CSV 需要列名行和至少一行数据。'));
  const query = new URLSearchParams(Object.entries(defaults).filter(([, v]) => v));
  const key = await uploadKey(text, defaults);
  const saved = readProgress(key);
  const resumed = saved && saved.batchesDone < split.batches.length ? saved : null;
  const progress = resumed || { batchesDone: 0, sent: 0, accepted: 0, rejected: 0, rejectedLines: [] };
  progress.batches = split.batches.length;
  const shown = csvRowsByLine(text, recordFields);
  const items = [];
  const results = [];
  showProgress(progress, split.rowCount);
  show(status, resumed ? notice('info', `继续提交：此文件上次已提交 ${resumed.batchesDone} 批（${resumed.sent} 行），从第 ${resumed.batchesDone + 1} 批继续，已提交的批次不再重复发送。`)
    : notice('info', '正在提交…'));
  for (let b = progress.batchesDone; b < split.batches.length; b += 1) {
    const batch = split.batches[b];
    const answer = await api(`/api/v1/records?${query}`, { method: 'PUT', body: batch.body, contentType: 'text/csv; charset=utf-8', token: getToken() });
    if (!answer.ok) {
      const line = answer.problem.line ? notice('info', `问题在第 ${batch.lines.get(answer.problem.line) ?? answer.problem.line} 行。`) : '';
      const kept = progress.batchesDone ? notice('info', `前 ${progress.batchesDone} 批（${progress.sent} 行）已提交并记录；再次提交同一文件将从第 ${progress.batchesDone + 1} 批继续。`) : '';
      show(status, problemNotice(answer.problem), line, kept);
      if (items.length) renderResults(items, results, 'csv');
      return;
    }
    const answered = Array.isArray(answer.data?.results) ? answer.data.results : [];
    for (const result of answered) {
      const fileLine = batch.lines.get(result.line) ?? result.line;
      const rejected = resultStatus(result) === 'rejected';
      progress[rejected ? 'rejected' : 'accepted'] += 1;
      if (rejected && progress.rejectedLines.length < 100) progress.rejectedLines.push(fileLine);
      items.push({ line: fileLine, record: shown.get(fileLine) || {} });
      results.push(result);
    }
    progress.sent += batch.rows;
    progress.batchesDone = b + 1;
    try {
      localStorage.setItem(key, JSON.stringify(progress));
    } catch {
      // Storage full or refused: the upload goes on; only resuming is lost.
    }
    showProgress(progress, split.rowCount);
  }
  localStorage.removeItem(key);
  if (!resumed) show(status);
  else {
    const earlierRejected = resumed.rejectedLines.length ? `（第 ${resumed.rejectedLines.join('、')} 行）` : '';
    show(status, notice('info', `已从第 ${resumed.batchesDone + 1} 批继续提交完成；此前批次的结果：接受 ${resumed.accepted} 行，拒绝 ${resumed.rejected} 行${earlierRejected}。下表为本次提交的结果。`));
  }
  renderResults(items, results, 'csv');
}

async function submitJson(text, defaults, status, format) {
  const parsed = jsonToRecords(text.replace(/^\uFEFF/, ''), defaults);
  if (parsed.error) return show(status, notice('error', parsed.error));
  if (!parsed.items.length) return show(status, notice('error', '没有找到记录。'));
  const results = [];
  for (let from = 0; from < parsed.items.length; from += BATCH_LIMIT) {
    const chunk = parsed.items.slice(from, from + BATCH_LIMIT);
    show(status, notice('info', `正在提交第 ${from + 1}–${from + chunk.length} 条，共 ${parsed.items.length} 条…`));
    const answer = await api('/api/v1/records', { method: 'PUT', json: chunk.map((c) => c.record), token: getToken() });
    if (!answer.ok) {
      show(status, problemNotice(answer.problem), from ? notice('info', `前 ${from} 条已提交，结果见下表。`) : '');
      if (from) renderResults(parsed.items.slice(0, from), results, format);
      return;
    }
    results.push(...batchResults(answer.data, chunk.length));
  }
  show(status);
  renderResults(parsed.items, results, format);
}

/** Records listed per page: a listing page is read from the entity's index, so a small page answers quickly. */
const RECORDS_PAGE = 20;
/** What the service adds to a stored record (docs/api.md, "Records"); sent back they would be warned as unknown fields. */
const STORED_ONLY = ['id', 'status', 'status_reason', 'status_changed_at', 'version', 'created_at', 'created_by', 'updated_at', 'updated_by'];
/** A withdrawn or repaired record cannot be withdrawn (409); a withdrawn one keeps its status when corrected. */
const WITHDRAWABLE = new Set(['active', 'under_objection']);
/** The record the withdraw dialog is open for. */
let withdrawing = null;

/** A field's column name in the kind's 双公示 table (catalog `record_fields`), as the CSV and the reports name it. */
function columnOf(kind, name, fallback) {
  return recordFields.find((k) => k.kind === kind)?.fields.find((f) => f.name === name)?.column || fallback;
}

/** The kind's first date field: the decision (处罚、强制措施), the listing (名单) or the judgment. */
function dateFieldOf(kind) {
  return recordFields.find((k) => k.kind === kind)?.fields.find((f) => f.type === 'date')?.name || 'decided_on';
}

function recordRow(record) {
  const dateField = dateFieldOf(record.kind);
  const status = statusNames.get(record.status) || record.status;
  const actions = el('div', { class: 'actions' });
  if (record.status !== 'withdrawn') {
    actions.append(el('button', { type: 'button', class: 'secondary small', 'data-act': 'correct', onclick: () => correctRecord(record) }, '更正'));
  }
  if (WITHDRAWABLE.has(record.status)) {
    actions.append(el('button', { type: 'button', class: 'secondary small', 'data-act': 'withdraw', onclick: () => openWithdraw(record) }, '撤销'));
  }
  return el('tr', { 'data-id': record.id, 'data-status': record.status },
    el('td', { 'data-label': '类型' }, kindNames.get(record.kind) || record.kind),
    el('td', { class: 'mono', 'data-label': columnOf(record.kind, 'document_no', '文书号') }, record.document_no || ''),
    el('td', { 'data-label': columnOf(record.kind, dateField, '决定日期') }, record[dateField] || ''),
    el('td', { 'data-label': '领域' }, domainNames.get(record.domain) || record.domain),
    el('td', { 'data-label': '状态' }, el('span', { class: `badge ${record.status}` }, status),
      record.status_reason && el('div', { class: 'muted' }, record.status_reason)),
    // A withdrawn record has nothing left to do: no empty 操作 label on a phone's card.
    el('td', { 'data-label': actions.childElementCount ? '操作' : undefined }, actions));
}

async function searchRecords(event) {
  event.preventDefault();
  const input = document.getElementById('records-uscc');
  const uscc = input.value.trim().toUpperCase();
  const status = document.getElementById('records-status');
  const list = document.getElementById('records-list');
  if (!isValidUscc(uscc)) {
    show(status, notice('error', '请输入正确的 18 位统一社会信用代码。'));
    input.focus();
    return;
  }
  input.value = uscc;
  show(status);
  show(list, el('p', { class: 'muted' }, '正在查询…'));
  const path = `/api/v1/records?uscc=${encodeURIComponent(uscc)}&limit=${RECORDS_PAGE}`;
  const first = await nextItems(path, 'records', null);
  if (first.problem) return show(list, problemNotice(first.problem));
  if (!first.items.length) return show(list, el('p', { class: 'muted' }, '本单位领域内没有该主体的记录。'));
  const body = el('tbody', {}, ...first.items.map(recordRow));
  const name = first.items.find((r) => r.entity_name)?.entity_name;
  const count = el('span', {}, String(first.items.length));
  const more = moreButton(path, 'records', first.next, (items) => {
    body.append(...items.map(recordRow));
    count.textContent = String(body.rows.length);
  }, (problem) => show(status, problem));
  show(list,
    el('p', { id: 'records-summary' }, `${name ? `${name}（${uscc}）` : uscc}：已显示 `, count, ' 条，按首次报送的先后排列。'),
    el('div', { class: 'table-wrap' }, el('table', { class: 'stack' },
      el('thead', {}, el('tr', {}, ...['类型', '文书号', '决定日期', '领域', '状态', '操作'].map((h) => el('th', { scope: 'col' }, h)))),
      body)),
    el('div', { class: 'actions' }, more));
}

/**
 * The record as the clerk sent it, in the upload form: edited and submitted again, it is upserted by its identity.
 * Empty fields are left out, as the service reads null and absent alike.
 */
function correctRecord(record) {
  const fields = Object.fromEntries(Object.entries(record).filter(([key, value]) => value !== null && !STORED_ONLY.includes(key)));
  const text = document.getElementById('batch-text');
  text.value = JSON.stringify([fields], null, 2);
  show(document.getElementById('batch-status'), notice('info',
    `已将记录“${record.document_no}”填入上方。修改后点击“提交记录”：领域、类型和文书号不变即更正原记录；改了其中之一将另存为新记录，原记录请撤销。`));
  text.closest('.field').scrollIntoView({ block: 'start' });
  text.focus({ preventScroll: true });
}

function openWithdraw(record) {
  withdrawing = record;
  document.getElementById('withdraw-record').textContent =
    `${kindNames.get(record.kind) || record.kind}：${record.document_no}${record.entity_name ? `（${record.entity_name}）` : ''}`;
  document.getElementById('withdraw-reason').value = '';
  show(document.getElementById('withdraw-status'));
  document.getElementById('withdraw-send').disabled = false;
  document.getElementById('withdraw-dialog').showModal();
  document.getElementById('withdraw-reason').focus();
}

/** Puts the record's row back as the service now has it. */
function redraw(record) {
  const row = document.querySelector(`#records-list tr[data-id="${CSS.escape(record.id)}"]`);
  if (row) row.replaceWith(recordRow(record));
}

async function sendWithdraw(event) {
  event.preventDefault();
  const reason = document.getElementById('withdraw-reason').value.trim();
  const out = document.getElementById('withdraw-status');
  if (!reason) {
    show(out, notice('error', '请填写撤销理由。'));
    document.getElementById('withdraw-reason').focus();
    return;
  }
  const record = withdrawing;
  const send = document.getElementById('withdraw-send');
  send.disabled = true;
  const answer = await api(`/api/v1/records/${encodeURIComponent(record.id)}`, { method: 'DELETE', json: { reason }, token: getToken() });
  send.disabled = false;
  if (!answer.ok) {
    // The service answers 404 alike for a record that is gone and one of another unit's domains.
    const why = answer.status === 404 ? '这条记录不存在，或不属于本单位负责的领域。'
      : answer.status === 409 ? '下表已按这条记录的当前状态刷新。' : '';
    show(out, problemNotice(answer.problem), why && notice('info', why));
    // Someone else got there first: the row shows what the record is now, and sending again would only fail again.
    if (answer.status === 409) {
      send.disabled = true;
      const current = await api(`/api/v1/records/${encodeURIComponent(record.id)}`, { token: getToken() });
      if (current.ok) redraw(current.data);
    }
    return;
  }
  const revoked = Array.isArray(answer.data?.revoked_reports) ? answer.data.revoked_reports : [];
  document.getElementById('withdraw-dialog').close();
  redraw(answer.data?.record || { ...record, status: 'withdrawn', status_reason: reason });
  show(document.getElementById('records-status'), notice('success',
    `已撤销记录“${record.document_no}”。${revoked.length ? `载有该记录的 ${revoked.length} 份报告已作废：${revoked.join('、')}。` : ''}`));
}

/** What a department may do with a case in each open status, and the API call behind it. */
const CASE_ACTIONS = {
  objection: {
    filed: [
      { label: '受理', act: 'accept' },
      { label: '不予受理', act: 'reject', reason: true },
    ],
    accepted: [
      { label: '维持原记录', act: 'resolve', body: { action: 'uphold' }, reason: true },
      { label: '撤销记录', act: 'resolve', body: { action: 'withdraw' }, reason: true },
    ],
  },
  repair: {
    applied: [
      { label: '批准修复', act: 'approve' },
      { label: '不予修复', act: 'reject', reason: true },
    ],
  },
};

function caseActions(item, kind, status) {
  const actions = CASE_ACTIONS[kind][item.status] || [];
  if (!actions.length || !item.no) return null;
  const reasonId = `reason-${item.no}`;
  const reason = el('textarea', { id: reasonId, rows: 2, class: 'reason' });
  const run = async (action, button) => {
    const text = reason.value.trim();
    if (action.reason && !text) {
      show(status, notice('error', `请先填写“${action.label}”的理由。`));
      reason.focus();
      return;
    }
    button.disabled = true;
    const json = { ...(action.body || {}), ...(text ? { reason: text } : {}) };
    const answer = await api(`/api/v1/${kind === 'objection' ? 'objections' : 'repairs'}/${encodeURIComponent(item.no)}/${action.act}`,
      { method: 'POST', json, token: getToken() });
    button.disabled = false;
    if (!answer.ok) return show(status, problemNotice(answer.problem));
    const label = answer.data?.status_label || answer.data?.status || '已办理';
    show(status, notice('success', `${item.no}：${label}`));
    setTimeout(loadTodos, 1500);
  };
  return el('div', { class: 'case-actions' },
    el('label', { for: reasonId }, '理由（不予受理、维持、撤销、不予修复时必填）'), reason,
    el('div', { class: 'actions' }, ...actions.map((action) => {
      const button = el('button', { type: 'button', class: action.reason ? 'secondary small' : 'small', 'data-act': action.act }, action.label);
      button.addEventListener('click', () => run(action, button));
      return button;
    })));
}

function todoItem(item, kind) {
  const what = kind === 'objection' ? `异议（${item.ground_label || groundNames.get(item.ground) || item.ground || '未注明理由'}）` : '信用修复申请';
  const when = dateTime(kind === 'objection' ? item.filed_at : item.applied_at);
  const due = dateTime(kind === 'objection' && item.status === 'filed' ? item.accept_by : item.answer_by);
  const status = el('div', { 'aria-live': 'polite' });
  return el('li', { class: `record${item.overdue ? ' overdue' : ''}`, 'data-case': item.no },
    el('strong', {}, `${what}：${item.document_no || ''}`),
    el('div', { class: 'muted' }, [item.no && `编号 ${item.no}`, item.status_label, item.entity_name,
      item.uscc && `统一社会信用代码 ${item.uscc}`, when && `提交于 ${when}`,
      due && `${kind === 'repair' ? '审核' : item.status === 'filed' ? '受理' : '答复'}期限 ${due}`].filter(Boolean).join(' · ')),
    item.overdue && el('div', { class: 'notice error' }, '已超过办理期限'),
    item.statement && el('p', {}, item.statement),
    caseActions(item, kind, status), status);
}

/** Pages of a listing until one holds items or the listing ends (a filtered page may be empty). */
async function nextItems(path, key, cursor) {
  let next = cursor;
  for (let pages = 0; pages < 20; pages += 1) {
    const answer = await api(next ? `${path}&cursor=${encodeURIComponent(next)}` : path, { token: getToken() });
    if (!answer.ok) return { problem: answer.problem };
    const items = Array.isArray(answer.data?.[key]) ? answer.data[key] : [];
    next = answer.data?.next_cursor || null;
    if (items.length || !next) return { items, next };
  }
  return { items: [], next };
}

/**
 * The 加载更多 button under a listing's first page: each click appends the next page that holds
 * items (`append`), or shows the problem (`showProblem`), and the button goes once the listing ends.
 */
function moreButton(path, key, cursor, append, showProblem) {
  let next = cursor;
  const more = el('button', { type: 'button', class: 'secondary small', 'data-more': key }, '加载更多');
  more.hidden = !next;
  more.addEventListener('click', async () => {
    more.disabled = true;
    const page = await nextItems(path, key, next);
    more.disabled = false;
    if (page.problem) return showProblem(problemNotice(page.problem));
    append(page.items);
    next = page.next;
    more.hidden = !next;
  });
  return more;
}

async function loadTodo(path, container, kind) {
  show(container, el('p', { class: 'muted' }, '正在加载…'));
  const key = kind === 'objection' ? 'objections' : 'repairs';
  const first = await nextItems(path, key, null);
  if (first.problem) return show(container, problemNotice(first.problem));
  if (!first.items.length) return show(container, el('p', { class: 'muted' }, '暂无待办'));
  const list = el('ul', { class: 'plain' }, ...first.items.map((item) => todoItem(item, kind)));
  const more = moreButton(path, key, first.next,
    (items) => list.append(...items.map((item) => todoItem(item, kind))),
    (problem) => container.append(problem));
  show(container, list, el('div', { class: 'actions' }, more));
}

function loadTodos() {
  loadTodo('/api/v1/objections?status=open', document.getElementById('todo-objections'), 'objection');
  loadTodo('/api/v1/repairs?status=open', document.getElementById('todo-repairs'), 'repair');
}

function init() {
  const desk = document.getElementById('desk');
  setupSignIn({
    form: document.getElementById('sign-in'),
    signedIn: document.getElementById('signed-in'),
    roles: ['department', 'admin'],
    onChange: (token, c) => {
      claims = c;
      desk.hidden = !token;
      if (token) {
        loadCatalog();
        loadTodos();
      }
    },
  });
  document.getElementById('batch-form').addEventListener('submit', submitBatch);
  document.getElementById('batch-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      // Spreadsheets on Chinese Windows save CSV as GB18030 unless told otherwise.
      text = new TextDecoder('gb18030').decode(bytes);
    }
    document.getElementById('batch-text').value = text;
    show(document.getElementById('batch-status'), notice('info', `已读取文件“${file.name}”，确认后点击“提交记录”。`));
  });
  document.getElementById('template').addEventListener('click', async () => {
    const select = document.getElementById('default-kind');
    const kind = select.value || 'penalty';
    const answer = await api(`/api/v1/records/templates/${encodeURIComponent(kind)}`, { accept: 'text/csv' });
    if (!answer.ok) return show(document.getElementById('batch-status'), problemNotice(answer.problem));
    const label = select.selectedOptions[0]?.textContent || kind;
    saveBlob(answer.data, `${label}记录模板.csv`);
  });
  document.getElementById('default-kind').addEventListener('change', showColumns);
  document.getElementById('todo-refresh').addEventListener('click', loadTodos);
  document.getElementById('records-form').addEventListener('submit', searchRecords);
  document.getElementById('withdraw-form').addEventListener('submit', sendWithdraw);
  document.getElementById('withdraw-cancel').addEventListener('click', () => document.getElementById('withdraw-dialog').close());
}

init();
