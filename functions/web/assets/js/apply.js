// Applicant page: sign in, choose months, domains and purpose, then download or review records.
import { api, catalog, dateTime, el, facts, fillOptions, getToken, isValidUscc, labels, notice, problemNotice, saveBlob, setupSignIn, show } from './common.js';

/** Record fields whose values are codes of a vocabulary word list, shown by their labels. */
const CODED_FIELDS = { kind: 'record_kinds', severity: 'severities', procedure: 'procedures', status: 'record_statuses',
  penalty_categories: 'penalty_categories', edition: 'report_editions', measure_types: 'coercive_measure_types' };

/** Record fields worth showing to the applicant, in reading order. */
const RECORD_FIELDS = [
  ['document_no', '文书号'], ['kind', '类型'], ['violation_type', '违法行为类型'], ['facts', '违法事实'],
  ['legal_basis', '处罚依据'], ['penalty_categories', '处罚类别'], ['penalty_content', '处罚内容'],
  ['fine_wan_yuan', '罚款金额（万元）'], ['confiscated_wan_yuan', '没收金额（万元）'], ['license_action', '暂扣或吊销证照'],
  ['decided_on', '处罚决定日期'], ['penalty_valid_until', '处罚有效期'], ['procedure', '处罚程序'],
  ['severity', '严重程度'], ['publicity_until', '公示截止期'], ['list_name', '名单名称'], ['reason', '列入原因'],
  ['basis', '认定依据'], ['listed_on', '列入日期'], ['removed_on', '移出日期'],
  ['measure_types', '强制措施种类'], ['cause', '强制措施事由'], ['lifted_on', '解除日期'],
  ['charges', '罪名'], ['verdict', '判决结果'], ['judged_on', '判决日期'], ['effective_on', '生效日期'], ['unit_crime', '是否单位犯罪'],
  ['authority', '处罚/认定/实施机关或审理法院'],
  ['source_unit', '数据来源单位'], ['status', '状态'], ['note', '备注'],
];

let claims = null;
/** Field → (code → label), from the catalog's vocabulary. */
let words = {};

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

function renderRecord(record) {
  const { id } = record;
  const title = record.violation_type || record.charges || record.list_name || words.kind?.get(record.kind) || '记录';
  const card = el('article', { class: 'record', 'aria-label': `${title} ${record.document_no || ''}` },
    el('strong', {}, title),
    facts(RECORD_FIELDS.filter(([k]) => k !== 'violation_type')
      .map(([k, label]) => [label, k === 'status' ? record.status_label || fieldValue(k, record[k]) : fieldValue(k, record[k])])));
  const status = el('div', { 'aria-live': 'polite' });
  if (id !== undefined && id !== null) {
    // A record under an open objection takes no second one (the service would answer CONFLICT).
    const objectable = record.status !== 'under_objection';
    card.append(el('div', { class: 'actions' },
      objectable && el('button', { type: 'button', class: 'secondary small', onclick: () => openDispute('objection', id, record, status) }, '提出异议'),
      el('button', { type: 'button', class: 'secondary small', onclick: () => openDispute('repair', id, record, status) }, '申请信用修复')));
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
    ? notice('success', '查询期间内无违法违规记录。')
    : notice('info', `查询期间内有 ${count} 条违法违规记录，请查看。对记录有异议可提出异议；符合条件的可申请信用修复。`),
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
