// Shared helpers for every page: API calls with problem+json handling, sign-in, small DOM tools.

const TOKEN_KEY = 'credit-report.token';

/**
 * Calls the API. Never throws: the answer is { ok, status, data, problem, headers }.
 * `problem` is the RFC 9457 body of a failed call, or one made up for a network failure.
 */
export async function api(path, { method = 'GET', json, body, contentType, token, accept } = {}) {
  const headers = {};
  if (accept) headers.Accept = accept;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (contentType) {
    headers['Content-Type'] = contentType;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  } catch {
    return { ok: false, status: 0, data: null, headers: new Headers(),
      problem: { code: 'NETWORK_ERROR', detail: '无法连接服务，请检查网络后重试。' } };
  }
  const type = response.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) {
    try { data = await response.json(); } catch { data = null; }
  } else if (accept && !accept.includes('json')) {
    data = await response.blob();
  } else {
    try { data = await response.text(); } catch { data = null; }
  }
  if (response.ok) return { ok: true, status: response.status, data, problem: null, headers: response.headers };
  const problem = data && typeof data === 'object' && !(data instanceof Blob) ? data : {};
  return {
    ok: false, status: response.status, data, headers: response.headers,
    problem: { code: problem.code || `HTTP_${response.status}`, detail: problem.detail || defaultDetail(response.status),
      field: problem.field, retryAfter: response.headers.get('Retry-After'), ...problem },
  };
}

function defaultDetail(status) {
  switch (status) {
    case 401: return '未登录或登录已失效，请重新输入访问令牌。';
    case 403: return '当前身份无权进行此操作。';
    case 404: return '没有找到所请求的内容。';
    case 413: return '文件过大，大小不能超过5M。';
    case 415: return '文件格式不正确，请上传PDF文件。';
    case 429: return '请求过于频繁，请稍后再试。';
    case 501: return '该功能尚未开放。';
    default: return status >= 500 ? '服务暂时不可用，请稍后再试。' : '请求未能完成。';
  }
}

/** A notice element for a failed call: the Chinese detail first, the stable code for support. */
export function problemNotice(problem) {
  const parts = [el('strong', {}, problem.detail)];
  // The API names the field by its JSON name; a person reads the label of the form they filled,
  // needed only where the detail does not say it already.
  const field = FIELD_LABELS.get(problem.field);
  if (field && !String(problem.detail).includes(field)) parts.push(el('span', {}, `（${field}）`));
  const seconds = Number(problem.retryAfter);
  if (problem.retryAfter && Number.isFinite(seconds)) parts.push(el('span', {}, ` 请在 ${seconds} 秒后重试。`));
  parts.push(el('div', { class: 'code' }, `错误代码：${problem.code}`));
  return el('div', { class: 'notice error', role: 'alert' }, ...parts);
}

/** The Chinese names of the request fields a problem may name (`field`), as the pages label them. */
const FIELD_LABELS = new Map([
  ['code', '核验码'], ['codes', '核验码'], ['file', '报告文件'], ['uscc', '统一社会信用代码'],
  ['authorisation_ref', '授权委托书编号'], ['months', '时间范围'], ['domains', '查询领域'], ['purpose', '使用用途'],
  ['record_id', '记录'], ['ground', '异议理由'], ['statement', '情况说明'], ['evidence', '证明材料'],
  ['reason', '理由'], ['from', '起始月份'], ['to', '截止月份'],
]);

/**
 * Chinese names of the API's problem codes (docs/api.md, "Problem codes"), for the figures that
 * count refused requests by code; the catalog names the verification outcomes but not these.
 */
const PROBLEM_LABELS = new Map([
  ['INVALID_JSON', '请求格式错误'], ['INVALID_CSV', 'CSV文件格式错误'], ['UNSUPPORTED_MEDIA_TYPE', '内容类型不支持'],
  ['PAYLOAD_TOO_LARGE', '请求过大'], ['FILE_TOO_LARGE', '文件过大'], ['NOT_A_PDF', '不是PDF文件'],
  ['TOO_MANY_ITEMS', '条数超过上限'], ['INVALID_USCC', '统一社会信用代码有误'], ['UNKNOWN_DOMAIN', '领域代码未知'],
  ['UNKNOWN_PURPOSE', '用途代码未知'], ['INVALID_MONTHS', '时间范围有误'], ['INVALID_CODE', '核验码格式错误'],
  ['INVALID_REPORT_NO', '报告编号格式错误'], ['MISSING_FIELD', '缺少必填字段'], ['INVALID_FIELD', '字段内容有误'],
  ['UNAUTHENTICATED', '未登录或登录失效'], ['FORBIDDEN', '无权操作'], ['NOT_FOUND', '未找到'],
  ['CONFLICT', '与当前状态冲突'], ['REPAIR_NOT_YET_ALLOWED', '未到可修复日期'], ['REPAIR_NOT_APPLICABLE', '不适用信用修复'],
  ['RATE_LIMITED', '请求过于频繁'], ['TOO_MANY_VISITORS', '访问人数过多'], ['TOO_MANY_APPLICATIONS', '申请次数已达上限'],
  ['REPORT_TOO_LARGE', '报告内容超限'], ['METHOD_NOT_ALLOWED', '请求方法不支持'], ['INVALID_CONFIG', '服务配置错误'],
  ['STORE_UNAVAILABLE', '数据存储暂不可用'], ['AUTH_NOT_CONFIGURED', '未配置登录方式'],
  ['IDENTITY_PROVIDER_UNAVAILABLE', '统一身份认证平台不可用'], ['INTERNAL', '服务内部错误'],
  ['ROUTE_NOT_FOUND', '地址不存在'], ['DEADLINE_EXCEEDED', '处理超时'], ['COMPONENT_FAILED', '服务内部错误'],
  ['SERVER_BUSY', '服务繁忙'], ['REQUEST_TIMEOUT', '请求发送过慢'], ['INCOMPLETE_BODY', '请求不完整'],
]);

/** A problem code by its Chinese name; a code this page does not know yet shows as itself. */
export function problemLabel(code) {
  return PROBLEM_LABELS.get(code) || code;
}

export function notice(kind, text) {
  return el('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Builds an element: attributes (on* become listeners), then children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A definition list of [label, value] pairs, skipping empty values. */
export function facts(pairs) {
  const dl = el('dl', { class: 'facts' });
  for (const [label, value] of pairs) {
    if (value === undefined || value === null || value === '') continue;
    dl.append(el('dt', {}, label), el('dd', {}, value));
  }
  return dl;
}

export function show(container, ...nodes) {
  container.replaceChildren(...nodes);
}

/** RFC 3339 as written by the service (+08:00), shown without seconds. */
export function dateTime(value) {
  if (typeof value !== 'string') return value;
  const m = value.match(/^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})/);
  return m ? `${m[1]} ${m[2]}` : value;
}

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function setToken(token) {
  try { sessionStorage.setItem(TOKEN_KEY, token); } catch { /* private mode: the token lives for this page only */ }
}

export function clearToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* nothing stored */ }
}

/** The token's claims, for display only: the service verifies the token on every call. */
export function tokenClaims(token) {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

/**
 * Wires the sign-in card: the 登录 link to the identity provider (the session lives in an
 * HttpOnly cookie the page never sees), and, only where the service runs in development mode,
 * the development token box (textarea #token-input; the token is kept in this tab only).
 * `onChange(active, claims)` runs once the sign-in state is known, and after each sign-in or
 * out; `claims` has role, uscc, unit and name.
 */
export function setupSignIn({ form, signedIn, roles, onChange }) {
  const card = form.closest('section');
  const providerBox = card.querySelector('.provider-sign-in');
  const input = form.querySelector('textarea');
  const status = card.querySelector('.sign-in-status');
  const fits = (claims) => !roles || !claims?.role || roles.includes(claims.role);
  // Role codes until the catalog answers with their labels.
  let roleName = (role) => role;
  const roleNames = () => (roles ? roles.map(roleName).join('或') : '');
  let session = { signed_in: false, provider: false, development: false };
  const render = () => {
    // Outside development mode no token is kept in the page.
    if (!session.development) clearToken();
    const stored = getToken();
    const storedClaims = stored ? tokenClaims(stored) : null;
    const current = session.signed_in ? session : storedClaims;
    // Someone of another role (from another page of this tab) stays signed in but not here.
    const active = Boolean(current) && fits(current);
    providerBox.hidden = active || !session.provider;
    form.hidden = active || !session.development;
    signedIn.hidden = !current;
    if (current && !active) {
      show(status, notice('info', `当前登录身份为“${roleName(current.role)}”，此页面供${roleNames()}使用，请退出后以相应身份登录。`));
    }
    if (current) {
      // Who first (the person, else the unit, else the role), then in brackets what kind of user.
      const role = current.role ? roleName(current.role) : '未知角色';
      const who = current.name || current.unit || role;
      const about = [who !== role && role, current.name && current.unit, current.uscc && `统一社会信用代码 ${current.uscc}`,
        !session.signed_in && '开发令牌'].filter(Boolean).join('，');
      signedIn.querySelector('.who').textContent = `已登录：${who}${about ? `（${about}）` : ''}`;
    }
    onChange(active, active ? current : null);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim().replace(/^Bearer\s+/i, '');
    const claims = tokenClaims(token);
    if (!claims) {
      show(status, notice('error', '令牌格式不正确：请粘贴完整的开发令牌（三段，以“.”分隔）。'));
      input.focus();
      return;
    }
    if (!fits(claims)) {
      show(status, notice('error', `此页面供${roleNames()}使用，当前令牌角色为“${roleName(claims.role)}”。`));
      input.focus();
      return;
    }
    if (claims.exp && claims.exp * 1000 < Date.now()) {
      show(status, notice('error', '令牌已过期，请重新获取。'));
      return;
    }
    show(status);
    input.value = '';
    setToken(token);
    render();
  });
  signedIn.querySelector('.sign-out').addEventListener('click', async () => {
    clearToken();
    show(status);
    if (!session.signed_in) {
      render();
      return;
    }
    const answer = await api('/auth/logout', { method: 'POST' });
    if (!answer.ok) return show(status, problemNotice(answer.problem));
    // Ends the session at the identity provider too, which sends the browser back here.
    window.location.assign(answer.data.location);
  });
  api('/auth/session').then((answer) => {
    if (!answer.ok) {
      show(status, problemNotice(answer.problem));
      providerBox.hidden = true;
      form.hidden = true;
      return;
    }
    session = answer.data;
    render();
  });
  catalog().then((cat) => {
    const names = labels(cat, 'roles');
    roleName = (role) => names.get(role) || role;
    render();
  });
}

/** Saves a blob under a file name through a temporary link. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** GB 32100-2015 check, to catch typing mistakes before a round trip; the service decides. */
export function isValidUscc(code) {
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += USCC_ALPHABET.indexOf(code[i]) * USCC_WEIGHTS[i];
  return USCC_ALPHABET[(31 - (sum % 31)) % 31] === code[17];
}

/** The public catalog, fetched once per page. */
let catalogPromise;
export function catalog() {
  catalogPromise ??= api('/api/v1/catalog').then((r) => (r.ok && r.data && typeof r.data === 'object' ? r.data : null));
  return catalogPromise;
}

export function byCode(list) {
  return new Map((Array.isArray(list) ? list : []).map((item) => [item.code, item]));
}

/** One word list of the catalog's vocabulary as code → Chinese label; empty when the catalog did not load. */
export function labels(cat, list) {
  const terms = cat?.vocabulary?.[list];
  return new Map((Array.isArray(terms) ? terms : []).map((term) => [term.code, term.label]));
}

/** Fills a select with one word list of the vocabulary, in the served order. */
export function fillOptions(select, cat, list) {
  show(select, ...[...labels(cat, list)].map(([code, label]) => el('option', { value: code }, label)));
}
