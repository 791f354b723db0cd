// Public verification page: by code (typed or from the QR link) or by uploading the PDF.
import { api, byCode, catalog, dateTime, el, facts, labels, notice, problemNotice, show } from './common.js';

export const MAX_PDF_BYTES = 5 * 1024 * 1024;

const SVG_NS = 'http://www.w3.org/2000/svg';
const ICON_PATHS = {
  check: 'M5 12.5l4.5 4.5L19 7.5',
  clock: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M12 7v5l3.5 2.5',
  ban: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M5.6 5.6l12.8 12.8',
  cross: 'M6 6l12 12M18 6L6 18',
  search: 'M10.5 4a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13M15.3 15.3L20 20',
  question: 'M9 9a3 3 0 1 1 4.2 2.7c-.8.4-1.2 1-1.2 1.8V15M12 18.5v.5',
  partial: 'M6 3h8l4 4v6M6 3v18h6M14 3v4h4M15 17h.01M18 17h.01M21 17h.01',
};

/** One icon per outcome code, so no two outcomes can be mistaken for each other; the titles come from the catalog. */
const OUTCOME_ICONS = {
  VALID: 'check', EXPIRED: 'clock', REVOKED: 'ban', TAMPERED: 'cross', INCOMPLETE: 'partial', NOT_FOUND: 'search', UNRECOGNIZED: 'question',
};

function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICON_PATHS[name]);
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '2.6');
  path.setAttribute('stroke-linecap', 'round');
  path.setAttribute('stroke-linejoin', 'round');
  svg.append(path);
  return svg;
}

function names(list, codes) {
  if (codes === 'all') return '全部领域';
  if (!Array.isArray(codes)) return codes;
  return codes.map((d) => (typeof d === 'object' && d ? d.name || d.code : list.get(d)?.name || d)).join('、');
}

function fileSize(bytes) {
  if (typeof bytes !== 'number') return bytes;
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB（${bytes.toLocaleString('zh-CN')} 字节）`
    : `${(bytes / 1024).toFixed(1)} KB（${bytes.toLocaleString('zh-CN')} 字节）`;
}

async function renderOutcome(result) {
  const iconName = OUTCOME_ICONS[result.outcome];
  if (!iconName) {
    return notice('error', `无法解读核验结果（${String(result.outcome)}），请稍后重试。`);
  }
  const cat = (await catalog()) || {};
  const title = labels(cat, 'verification_outcomes').get(result.outcome) || result.outcome;
  const domains = byCode(cat.report_domains);
  const purposes = byCode(cat.purposes);
  const report = result.report;
  const box = el('div', { class: `outcome outcome-${result.outcome}`, 'data-outcome': result.outcome },
    el('div', { class: 'outcome-head' },
      el('div', { class: 'outcome-icon' }, icon(iconName)),
      el('div', {},
        el('p', { class: 'outcome-title' }, title),
        result.message && el('p', { class: 'outcome-message' }, result.message))));
  if (result.outcome === 'REVOKED') {
    box.append(facts([
      ['撤销时间', dateTime(result.revoked_at ?? report?.revoked_at)],
      ['撤销原因', result.reason ?? report?.reason],
    ]));
  }
  if (report && typeof report === 'object') {
    const period = report.period_start && report.period_end ? `${report.period_start} 至 ${report.period_end}` : undefined;
    box.append(el('h3', {}, '本平台存档的报告摘要'), facts([
      ['报告编号', el('span', { class: 'mono' }, report.report_no)],
      ['市场主体名称', report.entity_name],
      ['统一社会信用代码', el('span', { class: 'mono' }, report.uscc)],
      ['报告期间', period && (report.months ? `${period}（${report.months}个月）` : period)],
      ['查询领域', names(domains, report.domains)],
      ['使用用途', purposes.get(report.purpose)?.name || report.purpose],
      ['出具时间', dateTime(report.issued_at)],
      ['有效期至', dateTime(report.valid_until)],
      ['记录情况', report.clean === true ? '报告期间无违法违规记录' : report.clean === false ? '报告期间有记录，详见报告正文' : undefined],
      ['记录条数', report.record_count],
    ]));
  }
  if (result.file && typeof result.file === 'object') {
    const same = result.file.matches_original;
    box.append(el('h3', {}, '文件比对'), facts([
      ['文件 SHA-256', el('span', { class: 'mono' }, result.file.sha256)],
      ['文件大小', fileSize(result.file.size)],
      ['报告编号', result.outcome === 'INCOMPLETE' && result.claimed_report_no ? el('span', { class: 'mono' }, result.claimed_report_no) : undefined],
      ['与原件一致', same === true ? '是，与出具时的原件逐字节一致'
        : same === false && result.outcome === 'INCOMPLETE' ? '否，只有原件开头的一部分（文件不完整），请重新下载完整文件'
        : same === false ? '否，与出具时的原件不一致' : undefined],
    ]));
  }
  if (result.signature && typeof result.signature === 'object') box.append(el('h3', {}, '电子签章'), facts(signatureFacts(result.signature)));
  return box;
}

function signatureFacts(signature) {
  if (!signature.present) return [['电子签章', '文件中没有电子签章']];
  const state = !signature.valid ? '无效：文件在签章后被改动，或签章已损坏'
    : !signature.covers_whole_file ? '签章本身完好，但签章之后文件又被追加了修改'
    : !signature.by_issuer ? '签章完好，但不是本平台出具机构的签章'
    : '有效：由出具机构签署，签章后文件未被修改';
  return [
    ['签章状态', state],
    ['签章单位', signature.signer],
    ['签章时间', dateTime(signature.signed_at)],
  ];
}

async function present(resultArea, answer) {
  if (answer.ok && answer.data && typeof answer.data === 'object') show(resultArea, await renderOutcome(answer.data));
  else if (answer.ok) show(resultArea, notice('error', '服务返回了无法解读的结果，请稍后重试。'));
  else show(resultArea, problemNotice(answer.problem));
  resultArea.focus();
}

async function verifyCode(code, resultArea, button) {
  button.disabled = true;
  show(resultArea, notice('info', '正在核验…'));
  try {
    await present(resultArea, await api('/api/v1/verify/code', { method: 'POST', json: { code } }));
  } finally {
    button.disabled = false;
  }
}

/** Checks size, type and the %PDF- signature locally, so a wrong file is never uploaded. */
export async function checkPdf(file) {
  if (!file) return '请选择要核验的报告文件。';
  const named = /\.pdf$/i.test(file.name) || file.type === 'application/pdf';
  if (!named) return `“${file.name}”不是PDF文件，请上传专用信用报告电子版原件（PDF格式）。`;
  if (file.size > MAX_PDF_BYTES) {
    return `文件大小为 ${(file.size / 1024 / 1024).toFixed(1)} MB，超过5M的上限，未上传。请上传专用信用报告电子版原件。`;
  }
  if (file.size === 0) return '文件是空的，请重新选择。';
  const head = new Uint8Array(await file.slice(0, 5).arrayBuffer());
  if (String.fromCharCode(...head) !== '%PDF-') return `“${file.name}”的内容不是PDF格式，未上传。`;
  return null;
}

function init() {
  const codeForm = document.getElementById('code-form');
  const codeInput = document.getElementById('code');
  const fileForm = document.getElementById('file-form');
  const fileInput = document.getElementById('file');
  const resultArea = document.getElementById('result');

  codeForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const code = codeInput.value.trim();
    if (!code) {
      show(resultArea, notice('error', '请输入核验码。'));
      codeInput.focus();
      return;
    }
    verifyCode(code, resultArea, codeForm.querySelector('button'));
  });

  const rejectFile = (message) => {
    show(resultArea, el('div', { class: 'notice error', role: 'alert', 'data-local-check': 'rejected' }, message));
    fileInput.setAttribute('aria-invalid', 'true');
  };
  fileInput.addEventListener('change', async () => {
    fileInput.removeAttribute('aria-invalid');
    const problem = await checkPdf(fileInput.files[0]);
    if (problem) rejectFile(problem);
    else show(resultArea);
  });
  fileForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = fileInput.files[0];
    const problem = await checkPdf(file);
    if (problem) {
      rejectFile(problem);
      fileInput.focus();
      return;
    }
    const button = fileForm.querySelector('button');
    button.disabled = true;
    show(resultArea, notice('info', '正在上传并比对文件…'));
    try {
      await present(resultArea, await api('/api/v1/verify/file', { method: 'POST', body: file, contentType: 'application/pdf' }));
    } finally {
      button.disabled = false;
    }
  });

  // The QR link carries the code in the fragment (#code=…), which the browser never sends, so
  // the secret stays out of server and proxy logs. Links printed before (?code=…) still work;
  // either way the code is taken out of the address bar, history and any later Referer.
  const checkLinkedCode = () => {
    const fromLink = new URLSearchParams(location.hash.slice(1)).get('code')
      ?? new URLSearchParams(location.search).get('code');
    if (fromLink) {
      history.replaceState(null, '', location.pathname);
      codeInput.value = fromLink.trim();
      verifyCode(codeInput.value, resultArea, codeForm.querySelector('button'));
    }
  };
  // A link opened while the page is already shown changes only the fragment.
  window.addEventListener('hashchange', checkLinkedCode);
  checkLinkedCode();
}

init();
