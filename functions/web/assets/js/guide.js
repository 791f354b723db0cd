// 办事指南: the page's figures and contacts come from the catalog (GET /api/v1/catalog, `guide`),
// so the guide states what this deployment does. Without the catalog the general text stays.
import { catalog, labels } from './common.js';

const MIB = 1024 * 1024;

function megabytes(bytes) {
  return `${Number.isInteger(bytes / MIB) ? bytes / MIB : (bytes / MIB).toFixed(1)}MB`;
}

function fill(name, text) {
  for (const node of document.querySelectorAll(`[data-guide="${name}"]`)) node.textContent = text;
}

function describe(cat) {
  const guide = cat.guide;
  if (!guide || typeof guide !== 'object') return;
  const months = (guide.report_months || []).join('、');
  fill('months', `可选择最近 ${months} 个月；企业上市等金融市场用途出具上市版报告。`);
  fill('flow-months', `${(guide.report_months || []).map((m) => `${m} 个月`).join('、')}（上市版）`);
  const domains = Array.isArray(cat.report_domains) ? cat.report_domains.length : 0;
  const purposes = Array.isArray(cat.purposes) ? cat.purposes.map((p) => p.name).join('、') : '';
  if (domains) fill('domains', `可勾选 ${domains} 个查询领域中的任意领域或全部领域；使用用途：${purposes}。`);
  fill('validity', `报告自出具之日起 ${guide.report_validity_days} 天内有效，有效期内可替代无违法违规记录证明；超过有效期请重新申请。`);
  fill('limit', `每个经营主体每天最多申请 ${guide.apply_limit_per_day} 次。`);
  fill('verify', `使用单位在“报告核验”页输入报告封面右上方的核验码（区分大小写），或上传报告电子版原件（PDF，不超过${megabytes(guide.verify_file_max_bytes)}）进行文件比对，无需登录。`);
  fill('flow-file', `上传报告电子版原件（PDF，不超过${megabytes(guide.verify_file_max_bytes)}）`);
  fill('objection', `对报告所载记录有异议的，在“申请报告”页对该记录提出异议申诉，可附证明材料。记录的责任单位在 ${guide.objection_accept_working_days} 个工作日内决定是否受理，受理后 ${guide.objection_answer_working_days} 个工作日内办结；处理期间记录显示“异议处理中”。`);
  const repair = guide.repair_min_months || {};
  fill('repair', `行政处罚记录自处罚决定日起公示满最短期限（轻微 ${repair.minor} 个月、一般 ${repair.general} 个月、严重 ${repair.serious} 个月）后，可在“申请报告”页申请信用修复，可附证明材料；责任单位在 ${guide.repair_answer_working_days} 个工作日内审核。通过后该记录不再出现在新出具的报告中，已出具的相关报告核验为“已撤销”。`);
  const types = [...labels(cat, 'evidence_types').values()].join('、') || 'PDF、PNG 或 JPEG';
  fill('evidence', `可上传一份 ${types} 文件作为证明材料，不超过${megabytes(guide.evidence_max_bytes)}。`);
  if (typeof guide.contact_text === 'string' && guide.contact_text.trim()) {
    // Plain text from a setting: shown as text, line breaks kept by the stylesheet.
    document.getElementById('guide-contact').textContent = guide.contact_text;
  }
}

// Printed, every answer shows.
window.addEventListener('beforeprint', () => {
  for (const details of document.querySelectorAll('details')) details.open = true;
});
document.getElementById('print-guide').addEventListener('click', () => window.print());

catalog().then((cat) => {
  if (cat) describe(cat);
  document.body.dataset.guideReady = cat ? 'catalog' : 'default';
});
