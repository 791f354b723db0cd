// 数据归集责任清单: GET /api/v1/stats/collection as a table a 发改局 officer can sort (click a
// header; again for the reverse order), overdue units highlighted, and the same list as CSV.
import { api, catalog, dateTime, el, getToken, labels, problemLabel, problemNotice, saveBlob, setupSignIn, show } from './common.js';

let rows = [];
let kindNames = new Map();
let statusNames = new Map();
let sortKey = 'overdue';
let descending = true;

/** The columns: header, how a row sorts, how a cell shows. */
function columns() {
  const kinds = rows[0]?.records?.map((k) => k.kind) || [];
  return [
    { label: '责任单位', key: 'unit', value: (r) => r.unit },
    { label: '数据领域', key: 'domain', value: (r) => r.domain_name },
    { label: '最近报送', key: 'last', value: (r) => r.last_submission_at || '', show: (r) => (r.last_submission_at ? dateTime(r.last_submission_at) : '从未报送') },
    { label: '距今天数', key: 'days', value: (r) => (r.days_since_submission ?? Infinity), show: (r) => (r.days_since_submission ?? '—') },
    { label: '近30天报送条数', key: 'recent', value: (r) => r.submissions_30d },
    ...kinds.map((kind) => ({
      label: `${kindNames.get(kind) || kind}`,
      key: `kind:${kind}`,
      value: (r) => r.records.find((k) => k.kind === kind)?.total || 0,
      show: (r) => kindCell(r.records.find((k) => k.kind === kind)),
    })),
    { label: '退回条数', key: 'rejected', value: (r) => r.rejected_total, show: rejectedCell },
    { label: '逾期未报送', key: 'overdue', value: (r) => (r.overdue ? 1 : 0), show: (r) => (r.overdue ? el('strong', { class: 'overdue-flag' }, '逾期') : '正常') },
  ];
}

function kindCell(counts) {
  if (!counts || !counts.total) return '0';
  const parts = Object.entries(counts.by_status).filter(([, n]) => n > 0)
    .map(([status, n]) => `${statusNames.get(status) || status} ${n}`);
  return [String(counts.total), el('div', { class: 'muted' }, parts.join('，'))];
}

function rejectedCell(row) {
  if (!row.rejected_total) return '0';
  return [String(row.rejected_total), el('div', { class: 'muted' }, row.rejected.map((r) => `${problemLabel(r.code)} ${r.count} 条`).join('，'))];
}

function render() {
  const cols = columns();
  const head = document.getElementById('collection-head');
  show(head, ...cols.map((col) => {
    const active = col.key === sortKey;
    return el('th', { scope: 'col', 'aria-sort': active ? (descending ? 'descending' : 'ascending') : 'none' },
      el('button', { type: 'button', class: 'sort', 'data-key': col.key, onclick: () => sortBy(col.key) },
        col.label, active ? (descending ? ' ▼' : ' ▲') : ''));
  }));
  const col = cols.find((c) => c.key === sortKey) || cols[0];
  const sorted = [...rows].sort((a, b) => {
    const x = col.value(a); const y = col.value(b);
    const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'zh-CN');
    return (descending ? -order : order) || a.unit.localeCompare(b.unit, 'zh-CN') || a.domain.localeCompare(b.domain);
  });
  show(document.getElementById('collection-body'), ...sorted.map((row) => el('tr', { class: row.overdue ? 'overdue' : undefined },
    ...cols.map((c) => el('td', { 'data-label': c.label }, c.show ? c.show(row) : String(c.value(row)))))));
}

function sortBy(key) {
  descending = key === sortKey ? !descending : false;
  sortKey = key;
  render();
}

async function load() {
  const status = document.getElementById('collection-status');
  show(status, el('p', { class: 'muted' }, '正在加载…'));
  const answer = await api('/api/v1/stats/collection', { token: getToken() || undefined });
  if (!answer.ok) return show(status, problemNotice(answer.problem));
  show(status);
  rows = answer.data.rows || [];
  const units = answer.data.units || [];
  const overdue = units.filter((u) => u.overdue).length;
  document.getElementById('collection-summary').textContent =
    `共 ${units.length} 个责任单位、${rows.length} 个数据领域；${overdue} 个单位超过 ${answer.data.overdue_days} 天未报送（标红）。统计时间 ${dateTime(answer.data.generated_at)}。`;
  render();
}

async function exportCsv() {
  const status = document.getElementById('collection-status');
  const answer = await api('/api/v1/stats/collection?format=csv', { token: getToken() || undefined, accept: 'text/csv' });
  if (!answer.ok) return show(status, problemNotice(answer.problem));
  saveBlob(answer.data, `数据归集责任清单-${new Date().toISOString().slice(0, 10)}.csv`);
}

setupSignIn({
  form: document.getElementById('sign-in'),
  signedIn: document.getElementById('signed-in'),
  roles: ['department', 'admin'],
  onChange: (active) => {
    document.getElementById('collection').hidden = !active;
    if (active) load();
  },
});
catalog().then((cat) => {
  kindNames = labels(cat, 'record_kinds');
  statusNames = labels(cat, 'record_statuses');
  if (rows.length) render();
});
document.getElementById('collection-refresh').addEventListener('click', load);
document.getElementById('collection-csv').addEventListener('click', exportCsv);
