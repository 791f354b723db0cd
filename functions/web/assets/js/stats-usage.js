// 使用统计: GET /api/v1/stats/usage drawn as inline SVG bar charts by this small script (no
// library, nothing fetched from elsewhere); every chart carries its numbers as text, so it reads
// the same printed.
import { api, catalog, el, facts, getToken, labels, problemLabel, problemNotice, setupSignIn, show } from './common.js';

const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#0b4f9c', '#f0a400', '#1a7f37', '#8250df', '#c11f2c', '#0a5c8a', '#57606a'];

let outcomeNames = new Map();
let editionNames = new Map();
const CHANNELS = new Map([['code', '核验码'], ['batch', '批量核验'], ['file', '文件核验']]);
const CASES = new Map([['objection', '异议申诉'], ['repair', '信用修复']]);

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The series' names with their colour, drawn as SVG (the pages' CSP allows no inline style). */
function legend(series) {
  return el('ul', { class: 'legend' }, ...series.map((s, i) => {
    const swatch = svg('svg', { viewBox: '0 0 10 10', class: 'swatch', 'aria-hidden': 'true' });
    swatch.append(svg('rect', { width: 10, height: 10, rx: 2, fill: COLORS[i % COLORS.length] }));
    return el('li', {}, swatch, s);
  }));
}

/** Stacked columns: one per category, one segment per series; totals written above. */
function columnChart(title, categories, series, values) {
  const width = Math.max(480, categories.length * 56 + 60);
  const height = 240;
  const top = 20; const bottom = 40; const left = 40;
  const totals = categories.map((_, c) => series.reduce((sum, _s, s) => sum + values(c, s), 0));
  const max = Math.max(1, ...totals);
  const step = (width - left - 10) / Math.max(1, categories.length);
  const scale = (height - top - bottom) / max;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title, class: 'bars' });
  chart.append(svg('line', { x1: left, y1: height - bottom, x2: width - 5, y2: height - bottom, stroke: '#8c959f' }));
  chart.append(svg('text', { x: left - 6, y: top + 4, 'text-anchor': 'end', class: 'axis' }, String(max)));
  chart.append(svg('text', { x: left - 6, y: height - bottom, 'text-anchor': 'end', class: 'axis' }, '0'));
  categories.forEach((category, c) => {
    const x = left + c * step + step * 0.15;
    const w = step * 0.7;
    let y = height - bottom;
    series.forEach((name, s) => {
      const h = values(c, s) * scale;
      if (h <= 0) return;
      y -= h;
      const bar = svg('rect', { x, y, width: w, height: h, fill: COLORS[s % COLORS.length] });
      bar.append(svg('title', {}, `${category} ${name}：${values(c, s)}`));
      chart.append(bar);
    });
    chart.append(svg('text', { x: x + w / 2, y: y - 4, 'text-anchor': 'middle', class: 'value' }, String(totals[c])));
    chart.append(svg('text', { x: x + w / 2, y: height - bottom + 16, 'text-anchor': 'middle', class: 'axis' }, category));
  });
  return [chart, legend(series)];
}

/** Horizontal bars with their label and number. */
function barList(title, items) {
  if (!items.length) return el('p', { class: 'muted' }, '本期间没有数据。');
  const row = 26; const labelWidth = 200; const width = 640;
  const max = Math.max(1, ...items.map(([, n]) => n));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${items.length * row + 8}`, role: 'img', 'aria-label': title, class: 'bars' });
  items.forEach(([label, n], i) => {
    const y = i * row + 4;
    const w = ((width - labelWidth - 60) * n) / max;
    chart.append(svg('text', { x: labelWidth - 8, y: y + 15, 'text-anchor': 'end', class: 'axis' }, label));
    chart.append(svg('rect', { x: labelWidth, y, width: Math.max(w, n > 0 ? 2 : 0), height: row - 8, fill: COLORS[i % COLORS.length] }));
    chart.append(svg('text', { x: labelWidth + w + 6, y: y + 15, class: 'value' }, String(n)));
  });
  return chart;
}

function percent(share) {
  return share === null || share === undefined ? '—' : `${(share * 100).toFixed(1)}%`;
}

function channelTotal(period, channel) {
  return Object.values(period.verifications?.[channel] || {}).reduce((a, b) => a + b, 0);
}

function render(data) {
  const { months, total } = data;
  document.getElementById('usage-period').textContent = `（${data.from} 至 ${data.to}）`;
  const verified = [...CHANNELS.keys()].reduce((sum, ch) => sum + channelTotal(total, ch), 0);
  show(document.getElementById('usage-totals'), facts([
    ['出具报告', `${total.reports} 份`],
    ['有记录的报告', `${total.with_records} 份（${percent(total.share_with_records)}）`],
    ['无记录的报告', `${total.without_records} 份`],
    ['替代证明', `${total.certificates_replaced} 份（每份报告按其查询领域数计）`],
    ...Object.entries(total.by_edition || {}).map(([edition, n]) => [editionNames.get(edition) || edition, `${n} 份`]),
    ['核验', `${verified} 次`],
  ]));
  const names = months.map((m) => m.month);
  show(document.getElementById('chart-reports'), ...columnChart('每月出具报告', names, ['有记录', '无记录'],
    (c, s) => (s === 0 ? months[c].with_records : months[c].without_records)));
  show(document.getElementById('chart-purposes'), barList('按用途出具报告',
    (total.by_purpose || []).map((p) => [p.label, p.total]).sort((a, b) => b[1] - a[1])));
  const channels = [...CHANNELS.keys()];
  show(document.getElementById('chart-verifications'), ...columnChart('每月核验次数', names, [...CHANNELS.values()],
    (c, s) => channelTotal(months[c], channels[s])));
  const outcomes = new Map();
  for (const byOutcome of Object.values(total.verifications || {})) {
    for (const [outcome, n] of Object.entries(byOutcome)) outcomes.set(outcome, (outcomes.get(outcome) || 0) + n);
  }
  show(document.getElementById('chart-outcomes'), barList('核验结果',
    // An outcome is a verification's result, or the problem code of a request refused before one.
    [...outcomes].map(([o, n]) => [outcomeNames.get(o) || `请求被拒：${problemLabel(o)}`, n]).sort((a, b) => b[1] - a[1])));
  show(document.getElementById('chart-cases'), ...columnChart('每月办结（按期 / 逾期 / 无期限）', names, ['按期办结', '逾期办结', '无办理期限'],
    (c, s) => {
      const all = Object.values(months[c].cases || {});
      const onTime = all.reduce((a, k) => a + k.on_time, 0);
      const overdue = all.reduce((a, k) => a + k.overdue, 0);
      const decided = all.reduce((a, k) => a + k.decided, 0);
      return [onTime, overdue, decided - onTime - overdue][s];
    }));
  show(document.getElementById('cases-body'), ...[...CASES].map(([kind, label]) => {
    const c = total.cases?.[kind] || { filed: 0, decided: 0, on_time: 0, overdue: 0, median_days: null };
    return el('tr', {}, el('th', { scope: 'row' }, label), el('td', {}, String(c.filed)), el('td', {}, String(c.decided)),
      el('td', {}, String(c.on_time)), el('td', {}, String(c.overdue)),
      el('td', {}, c.median_days === null || c.median_days === undefined ? '—' : `${c.median_days} 天`));
  }));
}

async function load() {
  const status = document.getElementById('usage-status');
  const params = new URLSearchParams();
  for (const name of ['from', 'to']) {
    const value = document.getElementById(`usage-${name}`).value;
    if (value) params.set(name, value);
  }
  show(status, el('p', { class: 'muted' }, '正在统计…'));
  const query = params.toString();
  const answer = await api(`/api/v1/stats/usage${query ? `?${query}` : ''}`, { token: getToken() || undefined });
  if (!answer.ok) return show(status, problemNotice(answer.problem));
  show(status);
  render(answer.data);
}

setupSignIn({
  form: document.getElementById('sign-in'),
  signedIn: document.getElementById('signed-in'),
  roles: ['admin'],
  onChange: (active) => {
    document.getElementById('usage').hidden = !active;
    if (active) load();
  },
});
catalog().then((cat) => {
  outcomeNames = labels(cat, 'verification_outcomes');
  editionNames = labels(cat, 'report_editions');
});
document.getElementById('usage-range').addEventListener('submit', (event) => {
  event.preventDefault();
  load();
});
document.getElementById('usage-print').addEventListener('click', () => window.print());
