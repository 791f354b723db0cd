// Applicant page: sign in, choose months, domains and purpose, then download or review records.
import { api, catalog, dateTime, el, facts, fillOptions, getToken, isValidUscc, labels, notice, problemNotice, saveBlob, setupSignIn, show } from './common.js';

/** Record fields whose values are codes of a vocabulary word list, shown by their labels. */
const CODED_FIELDS = { kind: 'record_kinds', severity: 'severities', procedure: 'procedures', status: 'record_statuses',
  penalty_categories: 'penalty_categories', edition: 'report_editions', measure_types: 'coercive_measure_types' };

/**
 * Record fields the card leaves out: whose record it is (the applicant's own), the domain (the
 * section heading names it), the units' credit codes, and the not-penalized flag (such a record is
 * never in a report). Every other field of the record's kind shows under the label the catalog
 * gives it for that kind (`record_fields`), which are the labels the PDF prints.
 */
const HIDDEN_FIELDS = new Set(['domain', 'entity_name', 'entity_category', 'uscc', 'legal_representative',
  'authority_uscc', 'source_unit_uscc', 'not_penalized']);

/** What the PDF prints for a date not (yet) set: the listing stands, the measure is in force. */
const UNSET_DATES = { removed_on: '未移出', lifted_on: '未解除' };

/** The field a record's card takes its title from, by kind. */
const TITLE_FIELDS = { penalty: 'violation_type', dishonest_list: 'list_name', abnormal_list: 'list_name', criminal_judgment: 'charges' };

let claims = null;
/** Field → (code → label), from the catalog's vocabulary. */
let words = {};
/** Record kind → its [field, label] pairs in the catalog's order, from `record_fields`. */
let kindFields = new Map();
/** Months from a penalty's decision before repair may be applied for, by severity (catalog `guide`). */
let repairMinMonths = null;

function selectedDomainBoxes() {
  return [...document.querySelectorAll('#domain-list input[type=checkbox]')];
}

function updateCount() {
  const boxes = selectedDomainBoxes();
  const ticked = boxes.filter((b) => b.checked).length;
  document.getElementById('domains-count').textContent = boxes.length ? `已选 ${ticked} / ${boxes.length} 个领域` : '';
}

async function loadCatalog() {
  const list = document.getElementById('domain-list');
  const purpose = document.getElementById('purpose');
  const cat = await catalog();
  if (!cat) {
    show(list, notice('error', '领域目录加载失败，请刷新页面重试。'));
    return;
  }
  words = Object.fromEntries(Object.entries(CODED_FIELDS).map(([field, list]) => [field, labels(cat, list)]));
  kindFields = new Map((cat.record_fields || []).map((k) => [k.kind,
    k.fields.filter((f) => !HIDDEN_FIELDS.has(f.name)).map((f) => [f.name, f.column])]));
  repairMinMonths = cat.guide?.repair_min_months || null;
  fillOptions(document.getElementById('ground'), cat, 'objection_grounds');
  if (Number.isFinite(cat.guide?.evidence_max_bytes)) {
    evidenceMaxBytes = cat.guide.evidence_max_bytes;
    const types = [...labels(cat, 'evidence_types').values()].join('、') || 'PDF、PNG 或 JPEG 文件';
    document.getElementById('evidence-hint').textContent = `可上传一份证明材料（${types}），大小不超过${megabytes(evidenceMaxBytes)}。`;
  }
  show(list, ...(cat.report_domains || []).map((d) => el('label', {},
    el('input', { type: 'checkbox', name: 'domain', value: d.code, checked: true, 'data-unit': d.unit, onchange: updateCount }),
    el('span', {}, d.name, d.unit && el('small', {}, d.unit)))));
  updateCount();
  const units = [...new Set((cat.report_domains || []).map((d) => d.unit).filter(Boolean))].sort((a, b) => a.localeCompare(b, 'zh-CN'));
  document.getElementById('domains-unit').append(...units.map((u) => el('option', { value: u }, u)));
  const groups = new Map();
  for (const p of cat.purposes || []) {
    const key = p.group || '其他';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(p);
  }
  for (const [group, items] of groups) {
    purpose.append(el('optgroup', { label: group }, ...items.map((p) => el('option', { value: p.code, 'data-edition': p.edition }, p.name))));
  }
  // The title names the edition the chosen purpose gives the report (上市版 or 通用版), as its PDF will.
  purpose.addEventListener('change', () => {
    const edition = words.edition?.get(purpose.selectedOptions[0]?.dataset.edition);
    document.getElementById('apply-edition').textContent = edition ? `（${edition}）` : '';
  });
}

function domainHeading(finding) {
  return [finding.name || finding.domain || '未分类', finding.unit && `责任单位：${finding.unit}`].filter(Boolean).join('　');
}

function fieldValue(key, value) {
  const names = words[key];
  const label = (code) => names?.get(code) || code;
  if (Array.isArray(value)) return value.map(label).join('、');
  if (typeof value === 'string') return label(value);
  if (typeof value === 'boolean') return value ? '是' : '否';
  if (value && typeof value === 'object') return JSON.stringify(value);
  return value;
}

/** Today in China (the service's calendar), as YYYY-MM-DD. */
function chinaToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

/** `date` (YYYY-MM-DD) plus whole months, a missing day falling to the month's last, as the service counts. */
function addMonths(date, months) {
  const [y, m, d] = date.split('-').map(Number);
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/**
 * Whether the service would take a repair application for the record (shared/src/dispute/repair.rs:
 * penalties only, not repaired or withdrawn, none under an open case, once the minimum publicity
 * period for its severity has passed), else what the holder does instead, as the refusal would say.
 */
function repairAdvice(record) {
  const authority = record.authority ? `（${record.authority}）` : '';
  switch (record.kind) {
    case 'penalty': {
      if (record.status === 'repaired') return { hint: '该记录已完成信用修复。' };
      if (record.status === 'withdrawn') return { hint: '该记录已撤销，无需修复。' };
      if (record.status === 'under_objection') return { hint: '该记录异议处理中，办结后可申请信用修复。' };
      const months = repairMinMonths?.[record.severity || 'general'];
      if (Number.isInteger(months) && record.decided_on) {
        const from = addMonths(record.decided_on, months);
        if (chinaToday() < from) return { hint: `最短公示期（自处罚决定日期起 ${months} 个月）未满，可于 ${from} 起申请信用修复。` };
      }
      return { repairable: true };
    }
    case 'dishonest_list':
    case 'abnormal_list':
      return { hint: record.removed_on ? '名单记录不适用信用修复；该主体已移出名单。'
        : `名单记录不适用信用修复：移出名单请向认定部门${authority}申请；记录有误可提出异议。` };
    case 'coercive_measure':
      return { hint: record.lifted_on ? '行政强制措施不适用信用修复；该措施已解除。'
        : `行政强制措施不适用信用修复：措施解除后即不再计入报告，请向实施机关${authority}申请解除；记录有误可提出异议。` };
    case 'criminal_judgment':
      return { hint: '刑事裁判不适用信用修复：生效裁判只能依审判监督程序改变；记录与裁判文书不符可提出异议。' };
    default:
      return { hint: '该类记录不适用信用修复；记录有误可提出异议。' };
  }
}

function renderRecord(record) {
  const { id } = record;
  const titleField = TITLE_FIELDS[record.kind];
  const title = record[titleField] || words.kind?.get(record.kind) || '记录';
  const fields = (kindFields.get(record.kind) || []).filter(([k]) => k !== titleField)
    .map(([k, label]) => [label, fieldValue(k, record[k] ?? UNSET_DATES[k])]);
  fields.push(['状态', record.status_label || fieldValue('status', record.status)]);
  const card = el('article', { class: 'record', 'aria-label': `${title} ${record.document_no || ''}` },
    el('strong', {}, title), facts(fields));
  const status = el('div', { 'aria-live': 'polite' });
  if (id !== undefined && id !== null) {
    // A record under an open objection takes no second one, and a repaired or withdrawn one none
    // (the service would answer CONFLICT).
    const objectable = !['under_objection', 'repaired', 'withdrawn'].includes(record.status);
    const repair = repairAdvice(record);
    card.append(el('div', { class: 'actions' },
      objectable && el('button', { type: 'button', class: 'secondary small', onclick: () => openDispute('objection', id, record, status) }, '提出异议'),
      repair.repairable && el('button', { type: 'button', class: 'secondary small', onclick: () => openDispute('repair', id, record, status) }, '申请信用修复'),
      repair.hint && el('span', { class: 'hint' }, repair.hint)));
  }
  card.append(status);
  return card;
}

function renderFindings(findings) {
  const sections = [];
  for (const finding of Array.isArray(findings) ? findings : []) {
    const records = finding.records || [];
    if (!records.length) continue;
    sections.push(el('section', { class: 'domain-findings' },
      el('h3', {}, `${domainHeading(finding)}（${records.length} 条）`), ...records.map(renderRecord)));
  }
  return sections;
}

async function downloadPdf(reportNo, status, button) {
  button.disabled = true;
  show(status, notice('info', '正在下载…'));
  const answer = await api(`/api/v1/reports/${encodeURIComponent(reportNo)}/pdf`, { token: getToken(), accept: 'application/pdf' });
  button.disabled = false;
  if (!answer.ok) return show(status, problemNotice(answer.problem));
  if (!(answer.data instanceof Blob)) return show(status, notice('error', '服务没有返回PDF文件，请稍后重试。'));
  saveBlob(answer.data, `专用信用报告-${reportNo}.pdf`);
  show(status, notice('success', `已下载：专用信用报告-${reportNo}.pdf`));
}

/** The report's state for its holder, in the verification page's words: revoked, expired, or valid. */
function reportState(report, outcomes) {
  if (report.revocation) return outcomes.get('REVOKED') || '已撤销';
  if (report.valid_until && new Date(report.valid_until) < new Date()) return outcomes.get('EXPIRED') || '已过有效期';
  return '有效期内';
}

/** Whose history the page shows: the entity itself, or the one counter staff last applied for. */
let historyUscc = null;

/**
 * One listing of the history: its first page, then a 加载更多 button while `next_cursor` says more
 * follow. `row` draws an item as a table row; `columns` are the headers (and the phone labels).
 */
async function loadListing(container, path, key, columns, row) {
  const table = el('table', { class: 'stack' }, el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { scope: 'col' }, c)))));
  const body = el('tbody');
  table.append(body);
  const more = el('button', { type: 'button', class: 'secondary small', hidden: true }, '加载更多');
  const status = el('div', { 'aria-live': 'polite' });
  let cursor = null;
  const page = async () => {
    const query = new URLSearchParams({ limit: '20' });
    if (claims?.role === 'staff') query.set('uscc', historyUscc);
    if (cursor) query.set('cursor', cursor);
    more.disabled = true;
    const answer = await api(`${path}?${query}`, { token: getToken() });
    more.disabled = false;
    if (!answer.ok) return show(status, problemNotice(answer.problem));
    show(status);
    body.append(...(answer.data?.[key] || []).map((item) => {
      const cells = row(item);
      return el('tr', {}, ...cells.map((cell, i) => el('td', { 'data-label': columns[i] }, cell)));
    }));
    cursor = answer.data?.next_cursor ?? null;
    more.hidden = cursor === null;
    if (!body.children.length && cursor === null) show(container, el('p', { class: 'muted' }, '暂无。'));
  };
  more.addEventListener('click', page);
  show(container, el('div', { class: 'table-wrap' }, table), more, status);
  await page();
}

function reportRow(report, purposes, outcomes) {
  const status = el('div', { 'aria-live': 'polite' });
  const button = el('button', { type: 'button', class: 'secondary small' }, '下载PDF');
  button.addEventListener('click', () => downloadPdf(report.report_no, status, button));
  return [
    el('span', { class: 'mono' }, report.report_no),
    report.period_start && `${report.period_start} 至 ${report.period_end}`,
    purposes.get(report.purpose) || report.purpose,
    dateTime(report.issued_at),
    dateTime(report.valid_until),
    reportState(report, outcomes),
    [button, status],
  ];
}

function caseStatus(item) {
  return [item.status_label || item.status, item.decision_reason && el('div', { class: 'muted' }, item.decision_reason)];
}

/** The entity's earlier reports, objections and repairs, so a closed tab loses nothing. */
async function loadHistory() {
  const section = document.getElementById('history');
  section.hidden = !historyUscc && claims?.role !== 'entity';
  if (section.hidden) return;
  const cat = await catalog();
  const purposes = new Map((cat?.purposes || []).map((p) => [p.code, p.name]));
  const outcomes = labels(cat, 'verification_outcomes');
  loadListing(document.getElementById('history-reports'), '/api/v1/reports', 'reports',
    ['报告编号', '报告期间', '使用用途', '出具时间', '有效期至', '状态', '下载'], (report) => reportRow(report, purposes, outcomes));
  loadCases();
}

function loadCases() {
  if (document.getElementById('history').hidden) return;
  loadListing(document.getElementById('history-objections'), '/api/v1/objections', 'objections',
    ['编号', '记录文书号', '异议理由', '提出时间', '状态'],
    (item) => [el('span', { class: 'mono' }, item.no), item.document_no, item.ground_label || item.ground, dateTime(item.filed_at), caseStatus(item)]);
  loadListing(document.getElementById('history-repairs'), '/api/v1/repairs', 'repairs',
    ['编号', '记录文书号', '申请时间', '状态'],
    (item) => [el('span', { class: 'mono' }, item.no), item.document_no, dateTime(item.applied_at), caseStatus(item)]);
}

function renderReport(report) {
  const area = document.getElementById('report');
  const count = report.record_count ?? (report.findings || []).reduce((n, f) => n + (f.records || []).length, 0);
  const summary = el('section', { class: 'card', 'aria-labelledby': 'report-title' },
    el('h2', { id: 'report-title' }, '报告已出具'),
    facts([
      ['报告编号', el('span', { class: 'mono' }, report.report_no)],
      ['报告版本', words.edition?.get(report.edition)],
      ['核验码', el('span', { class: 'mono big-code', id: 'verification-code' }, report.verification_code)],
      ['报告期间', report.period_start && `${report.period_start} 至 ${report.period_end}`],
      ['出具时间', dateTime(report.issued_at)],
      ['有效期至', dateTime(report.valid_until)],
      ['授权委托书编号', report.authorisation_ref],
      ['核验', report.verification_code && el('a', { href: `/#code=${encodeURIComponent(report.verification_code)}` }, '在核验页查看本报告')],
    ]));
  const status = el('div', { 'aria-live': 'polite' });
  // Every report the applicant may read can be downloaded, as the API allows: one with records prints them.
  const button = el('button', { type: 'button', id: 'download-pdf' }, '下载报告（PDF）');
  button.addEventListener('click', () => downloadPdf(report.report_no, status, button));
  summary.append(report.clean
    ? notice('success', '报告期间内无违法违规记录。')
    : notice('info', `报告期间内有 ${count} 条记录，请查看。对记录有异议可提出异议；符合条件的可申请信用修复。`),
  el('div', { class: 'actions' }, button), status);
  show(area, summary, ...(report.clean ? [] : [el('section', { class: 'card', 'aria-label': '记录明细' }, el('h2', {}, '记录明细'), ...renderFindings(report.findings))]));
  area.focus();
}

let dispute = null;

/** The evidence limits the service states (GET /api/v1/catalog `guide`), 2 MiB until it answers. */
let evidenceMaxBytes = 2 * 1024 * 1024;
const EVIDENCE_TYPES = ['application/pdf', 'image/png', 'image/jpeg'];

function megabytes(bytes) {
  const mb = bytes / 1024 / 1024;
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)}MB`;
}

/** The chosen evidence file as a data: URL (the API takes base64 or a data: URL), or why it cannot go. */
async function evidenceOf(input) {
  const file = input.files && input.files[0];
  if (!file) return { url: undefined };
  if (file.size > evidenceMaxBytes) {
    return { error: `证明材料“${file.name}”大小为 ${megabytes(file.size)}，超过${megabytes(evidenceMaxBytes)}的上限，请压缩或拆分后重新选择。` };
  }
  const byName = /\.(pdf|png|jpe?g)$/i.test(file.name);
  if (!EVIDENCE_TYPES.includes(file.type) && !byName) {
    return { error: `证明材料“${file.name}”不是 PDF、PNG 或 JPEG 文件，请重新选择。` };
  }
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  }).catch(() => null);
  return url ? { url } : { error: `无法读取证明材料“${file.name}”，请重新选择。` };
}

function openDispute(type, recordId, record, status) {
  dispute = { type, recordId, status };
  const dialog = document.getElementById('dispute-dialog');
  document.getElementById('dispute-title').textContent = type === 'objection' ? '提出异议' : '申请信用修复';
  document.getElementById('dispute-record').textContent = `记录：${record.document_no || recordId}`;
  document.getElementById('ground-field').hidden = type !== 'objection';
  document.getElementById('statement').value = '';
  document.getElementById('evidence').value = '';
  show(document.getElementById('dispute-status'));
  dialog.showModal();
  document.getElementById(type === 'objection' ? 'ground' : 'statement').focus();
}

async function sendDispute(event) {
  event.preventDefault();
  const statement = document.getElementById('statement').value.trim();
  const out = document.getElementById('dispute-status');
  if (!statement) {
    show(out, notice('error', '请填写情况说明。'));
    document.getElementById('statement').focus();
    return;
  }
  const objection = dispute.type === 'objection';
  const evidence = await evidenceOf(document.getElementById('evidence'));
  if (evidence.error) {
    show(out, notice('error', evidence.error));
    document.getElementById('evidence').focus();
    return;
  }
  const json = objection ? { record_id: dispute.recordId, ground: document.getElementById('ground').value, statement }
    : { record_id: dispute.recordId, statement };
  if (evidence.url) json.evidence = evidence.url;
  const button = document.getElementById('dispute-send');
  button.disabled = true;
  const answer = await api(objection ? '/api/v1/objections' : '/api/v1/repairs', { method: 'POST', json, token: getToken() });
  button.disabled = false;
  if (!answer.ok) return show(out, problemNotice(answer.problem));
  const data = answer.data && typeof answer.data === 'object' ? answer.data : {};
  const due = objection && data.accept_by ? `，责任单位应于 ${dateTime(data.accept_by)} 前受理`
    : !objection && data.answer_by ? `，责任单位应于 ${dateTime(data.answer_by)} 前审核` : '';
  const attached = data.evidence ? '，已附证明材料' : '';
  const text = `${objection ? '异议' : '信用修复申请'}已提交${data.no ? `，编号 ${data.no}` : ''}${data.status_label ? `，状态：${data.status_label}` : ''}${due}${attached}。`;
  show(dispute.status, notice('success', text));
  document.getElementById('dispute-dialog').close();
  loadCases();
}

async function submit(event) {
  event.preventDefault();
  const status = document.getElementById('apply-status');
  const boxes = selectedDomainBoxes();
  const ticked = boxes.filter((b) => b.checked).map((b) => b.value);
  const purpose = document.getElementById('purpose').value;
  if (!ticked.length) {
    show(status, notice('error', '请至少勾选一个查询领域。'));
    document.getElementById('domains-all').focus();
    return;
  }
  if (!purpose) {
    show(status, notice('error', '请选择使用用途。'));
    document.getElementById('purpose').focus();
    return;
  }
  const json = {
    months: Number(new FormData(event.target).get('months')),
    domains: ticked.length === boxes.length ? 'all' : ticked,
    purpose,
  };
  if (claims?.role === 'staff') {
    const uscc = document.getElementById('uscc').value.trim().toUpperCase();
    if (!isValidUscc(uscc)) {
      show(status, notice('error', '请填写正确的18位统一社会信用代码（校验位不符或含有无效字符）。'));
      document.getElementById('uscc').focus();
      return;
    }
    json.uscc = uscc;
    const reference = document.getElementById('authorisation-ref').value.trim();
    if (reference.length < 4) {
      show(status, notice('error', '请填写申请主体的授权委托书编号。'));
      document.getElementById('authorisation-ref').focus();
      return;
    }
    json.authorisation_ref = reference;
  }
  const button = document.getElementById('apply-submit');
  button.disabled = true;
  show(status, notice('info', '正在生成报告…'));
  const answer = await api('/api/v1/reports', { method: 'POST', json, token: getToken() });
  button.disabled = false;
  if (!answer.ok) return show(status, problemNotice(answer.problem));
  show(status);
  renderReport(answer.data || {});
  // Counter staff see the history of the entity they just applied for; the entity its own, anew.
  if (claims?.role === 'staff') historyUscc = json.uscc;
  loadHistory();
}

function init() {
  const form = document.getElementById('apply-form');
  setupSignIn({
    form: document.getElementById('sign-in'),
    signedIn: document.getElementById('signed-in'),
    roles: ['entity', 'staff'],
    onChange: (token, c) => {
      claims = c;
      form.hidden = !token;
      document.getElementById('uscc-field').hidden = c?.role !== 'staff';
      if (!token) show(document.getElementById('report'));
      historyUscc = null;
      loadHistory();
    },
  });
  document.getElementById('domains-all').addEventListener('click', () => { selectedDomainBoxes().forEach((b) => { b.checked = true; }); updateCount(); });
  document.getElementById('domains-none').addEventListener('click', () => { selectedDomainBoxes().forEach((b) => { b.checked = false; }); updateCount(); });
  document.getElementById('domains-unit').addEventListener('change', (event) => {
    const unit = event.target.value;
    if (!unit) return;
    selectedDomainBoxes().filter((b) => b.dataset.unit === unit).forEach((b) => { b.checked = true; });
    updateCount();
    event.target.value = '';
  });
  form.addEventListener('submit', submit);
  document.getElementById('dispute-form').addEventListener('submit', sendDispute);
  document.getElementById('dispute-cancel').addEventListener('click', () => document.getElementById('dispute-dialog').close());
  // A new choice of evidence clears the message about the previous one.
  document.getElementById('evidence').addEventListener('change', () => show(document.getElementById('dispute-status')));
  loadCatalog();
}

init();
