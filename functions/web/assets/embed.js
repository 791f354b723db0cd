// <credit-report-verify>: the service's report verification, embedded in another site's page
// (a tender platform's bid evaluation, a department's workflow). docs/integration.md.
//
//   <script src="{the service's address}/embed.js" defer></script>
//   <credit-report-verify code="optional code to check at once" mode="both|code|file"></credit-report-verify>
//
// One file, no external assets; the element draws into its shadow root with a constructed
// stylesheet (no inline <style> or style attributes, so a host page's CSP needs no
// 'unsafe-inline'). It calls this service's public verification API cross-origin (CORS), so
// the host page's CSP must allow this origin in script-src and connect-src. The API origin is
// the one this script was loaded from, or the element's `api-base` attribute. Each answer is
// also dispatched as a `credit-report-verified` event (detail: the API's JSON, or
// {problem}) for the host page to record.
(() => {
  'use strict';
  if (customElements.get('credit-report-verify')) return;

  const SCRIPT_ORIGIN = document.currentScript ? new URL(document.currentScript.src).origin : location.origin;
  const MAX_PDF_BYTES = 5 * 1024 * 1024;
  // The verification page's titles (GET /api/v1/catalog, verification_outcomes), kept here
  // because the element must draw without a second cross-origin call.
  const OUTCOMES = {
    VALID: { title: '真实有效', tone: 'good' },
    EXPIRED: { title: '已过有效期', tone: 'warn' },
    REVOKED: { title: '已撤销', tone: 'bad' },
    TAMPERED: { title: '文件已被篡改', tone: 'bad' },
    INCOMPLETE: { title: '文件不完整', tone: 'warn' },
    NOT_FOUND: { title: '未找到该核验码对应的报告', tone: 'warn' },
    UNRECOGNIZED: { title: '无法识别的文件', tone: 'warn' },
  };
  const CSS = `
    :host { display: block; font: 14px/1.6 system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; color: #1f2933; }
    .box { border: 1px solid #cbd2d9; border-radius: 6px; padding: 12px 14px; background: #fff; }
    h2 { font-size: 15px; margin: 0 0 8px; }
    form { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 6px 0; }
    input[type=text] { flex: 1 1 14em; padding: 6px 8px; border: 1px solid #9aa5b1; border-radius: 4px; font: inherit; letter-spacing: .05em; }
    button { padding: 6px 14px; border: 0; border-radius: 4px; background: #1d4ed8; color: #fff; font: inherit; cursor: pointer; }
    button:disabled { background: #9aa5b1; cursor: default; }
    .result { margin-top: 8px; }
    .outcome { border-left: 4px solid; padding: 6px 10px; border-radius: 4px; }
    .good { border-color: #15803d; background: #f0fdf4; }
    .warn { border-color: #b45309; background: #fffbeb; }
    .bad { border-color: #b91c1c; background: #fef2f2; }
    .title { font-weight: 600; margin: 0; }
    .message { margin: 2px 0 6px; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
    dt { color: #52606d; } dd { margin: 0; overflow-wrap: anywhere; }
    .code { color: #52606d; font-size: 12px; }
    .footer { margin-top: 8px; font-size: 12px; color: #52606d; }
  `;
  let sheet;
  function styles() {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    return sheet;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children) if (child !== undefined && child !== null && child !== false) node.append(child);
    return node;
  }

  function dateTime(value) {
    if (!value) return undefined;
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? String(value)
      : d.toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });
  }

  function facts(rows) {
    const list = el('dl');
    for (const [name, value] of rows) {
      if (value === undefined || value === null || value === '') continue;
      list.append(el('dt', {}, name), el('dd', {}, String(value)));
    }
    return list;
  }

  function outcomeBox(result) {
    const known = OUTCOMES[result.outcome];
    if (!known) return problemBox({ detail: `无法解读核验结果（${String(result.outcome)}），请稍后重试。`, code: 'UNKNOWN_OUTCOME' });
    const report = result.report && typeof result.report === 'object' ? result.report : {};
    const rows = [
      ['报告编号', report.report_no ?? result.claimed_report_no],
      ['市场主体名称', report.entity_name],
      ['统一社会信用代码', report.uscc],
      ['报告期间', report.period_start && report.period_end ? `${report.period_start} 至 ${report.period_end}` : undefined],
      ['出具时间', dateTime(report.issued_at)],
      ['有效期至', dateTime(report.valid_until)],
      ['记录情况', report.clean === true ? '查询期间无违法违规记录' : report.clean === false ? `查询期间有违法违规记录（${report.record_count} 条）` : undefined],
    ];
    if (result.outcome === 'REVOKED') rows.push(['撤销时间', dateTime(result.revoked_at)], ['撤销原因', result.reason]);
    if (result.file && typeof result.file === 'object') {
      rows.push(['与原件一致', result.file.matches_original ? '是' : '否']);
    }
    return el('div', { class: `outcome ${known.tone}`, 'data-outcome': result.outcome, role: 'status' },
      el('p', { class: 'title' }, known.title),
      result.message && el('p', { class: 'message' }, result.message),
      facts(rows));
  }

  function problemBox(problem) {
    const seconds = Number(problem.retryAfter);
    return el('div', { class: 'outcome bad', 'data-problem': problem.code || 'ERROR', role: 'alert' },
      el('p', { class: 'title' }, problem.code === 'RATE_LIMITED' ? '核验过于频繁' : '未能核验'),
      el('p', { class: 'message' }, problem.detail || '核验服务暂时不可用，请稍后重试。',
        problem.retryAfter && Number.isFinite(seconds) ? ` 请在 ${seconds} 秒后重试。` : ''),
      el('p', { class: 'code' }, `错误代码：${problem.code || 'ERROR'}`));
  }

  class CreditReportVerify extends HTMLElement {
    static get observedAttributes() { return ['code']; }

    constructor() {
      super();
      this.root = this.attachShadow({ mode: 'open' });
      this.root.adoptedStyleSheets = [styles()];
    }

    get apiBase() {
      return (this.getAttribute('api-base') || SCRIPT_ORIGIN).replace(/\/$/, '');
    }

    connectedCallback() {
      if (this.box) return;
      const mode = this.getAttribute('mode') || 'both';
      this.result = el('div', { class: 'result', 'aria-live': 'polite' });
      this.box = el('div', { class: 'box', part: 'box' }, el('h2', {}, '专用信用报告核验'));
      if (mode !== 'file') {
        this.codeInput = el('input', { type: 'text', name: 'code', autocomplete: 'off', spellcheck: 'false', placeholder: '输入报告上的16位核验码', 'aria-label': '核验码' });
        this.codeButton = el('button', { type: 'submit' }, '核验');
        const form = el('form', { 'data-form': 'code' }, this.codeInput, this.codeButton);
        form.addEventListener('submit', (event) => {
          event.preventDefault();
          this.verifyCode(this.codeInput.value);
        });
        this.box.append(form);
      }
      if (mode !== 'code') {
        this.fileInput = el('input', { type: 'file', name: 'file', accept: 'application/pdf,.pdf', 'aria-label': '报告文件（PDF）' });
        this.fileButton = el('button', { type: 'submit' }, '核验文件');
        const form = el('form', { 'data-form': 'file' }, this.fileInput, this.fileButton);
        form.addEventListener('submit', (event) => {
          event.preventDefault();
          this.verifyFile(this.fileInput.files && this.fileInput.files[0]);
        });
        this.box.append(form);
      }
      this.box.append(this.result, el('p', { class: 'footer' }, `核验服务：${new URL(this.apiBase).host}`));
      this.root.append(this.box);
      const code = this.getAttribute('code');
      if (code && this.codeInput) {
        this.codeInput.value = code;
        this.verifyCode(code);
      }
    }

    attributeChangedCallback(name, previous, value) {
      if (name === 'code' && this.codeInput && value && value !== previous) {
        this.codeInput.value = value;
        this.verifyCode(value);
      }
    }

    verifyCode(code) {
      const trimmed = String(code || '').trim();
      if (!trimmed) return this.show(problemBox({ detail: '请输入核验码。', code: 'MISSING_FIELD' }));
      return this.send('/api/v1/verify/code', { 'content-type': 'application/json' }, JSON.stringify({ code: trimmed }));
    }

    verifyFile(file) {
      if (!file) return this.show(problemBox({ detail: '请选择要核验的报告文件（PDF）。', code: 'MISSING_FIELD' }));
      if (file.size > MAX_PDF_BYTES) return this.show(problemBox({ detail: '文件超过 5 MB 的上限，未上传。', code: 'FILE_TOO_LARGE' }));
      return this.send('/api/v1/verify/file', { 'content-type': 'application/pdf' }, file);
    }

    async send(path, headers, body) {
      for (const button of [this.codeButton, this.fileButton]) if (button) button.disabled = true;
      this.show(el('p', { role: 'status' }, '正在核验…'));
      let detail;
      try {
        const response = await fetch(this.apiBase + path, { method: 'POST', headers, body, credentials: 'omit', mode: 'cors' });
        const data = await response.json().catch(() => null);
        if (response.ok && data && typeof data === 'object') {
          detail = data;
          this.show(outcomeBox(data));
        } else {
          const problem = {
            ...(data && typeof data === 'object' ? data : {}),
            retryAfter: response.headers.get('retry-after'),
          };
          if (!problem.code) problem.code = `HTTP_${response.status}`;
          detail = { problem };
          this.show(problemBox(problem));
        }
      } catch {
        const problem = { code: 'NETWORK', detail: '无法连接核验服务，请检查网络后重试。' };
        detail = { problem };
        this.show(problemBox(problem));
      } finally {
        for (const button of [this.codeButton, this.fileButton]) if (button) button.disabled = false;
      }
      this.dispatchEvent(new CustomEvent('credit-report-verified', { detail, bubbles: true, composed: true }));
    }

    show(node) {
      this.result.replaceChildren(node);
    }
  }

  customElements.define('credit-report-verify', CreditReportVerify);
})();
