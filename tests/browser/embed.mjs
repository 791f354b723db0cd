// Browser test of the embeddable <credit-report-verify> element, from a page of ANOTHER origin:
// a tender platform's page served here on its own loopback port, under a strict CSP that allows
// only the service's origin for scripts and connections (no 'unsafe-inline'). The element loads
// from the service, calls its API cross-origin (CORS preflight included) and shows the outcomes.
//
//   BASE_URL      the service, e.g. http://127.0.0.1:3000
//   ENTITY_TOKEN  bearer token, role entity: issues the genuine report checked here
//   SCREENSHOT_DIR, CHROMIUM  as in e2e.mjs
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:3000').replace(/\/$/, '');
const { ENTITY_TOKEN } = process.env;
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || 'target/browser-screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

if (!ENTITY_TOKEN) {
  console.error('ENTITY_TOKEN is required');
  process.exit(2);
}

class CheckFailed extends Error {}
function expect(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

/** A genuine report: its code and PDF bytes. */
async function genuineReport() {
  const catalog = await (await fetch(`${BASE_URL}/api/v1/catalog`)).json();
  const issued = await fetch(`${BASE_URL}/api/v1/reports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ENTITY_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ months: 12, domains: 'all', purpose: catalog.purposes[0].code }),
  });
  const report = await issued.json();
  if (issued.status !== 201) throw new Error(`setup: POST /api/v1/reports answered ${issued.status}: ${JSON.stringify(report)}`);
  const pdf = await fetch(`${BASE_URL}/api/v1/reports/${encodeURIComponent(report.report_no)}/pdf`, {
    headers: { authorization: `Bearer ${ENTITY_TOKEN}` },
  });
  if (!pdf.ok) throw new Error(`setup: GET …/pdf answered ${pdf.status}`);
  return { code: report.verification_code, pdf: Buffer.from(await pdf.arrayBuffer()) };
}

/** The tender platform: one page, its own origin, a CSP naming only the service. */
function tenderPlatform() {
  const csp = `default-src 'none'; script-src ${BASE_URL}; connect-src ${BASE_URL}; style-src 'self'; base-uri 'none'`;
  const page = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>招标平台评标（测试）</title>
<script src="${BASE_URL}/embed.js" defer></script></head>
<body><h1>投标人资格审查</h1><credit-report-verify id="by-code" mode="code"></credit-report-verify>
<credit-report-verify id="by-file" mode="file"></credit-report-verify></body></html>`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp });
    res.end(page);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const results = [];
async function check(name, page, fn) {
  try {
    await fn();
    results.push(true);
    console.log(`ok   ${name}`);
  } catch (error) {
    results.push(false);
    console.log(`FAIL ${name}: ${error instanceof CheckFailed ? error.message : error.stack || error}`);
    await page.screenshot({ path: path.join(SHOTS, `FAILED-embed-${name.replace(/[^\w-]+/g, '_')}.png`), fullPage: true }).catch(() => {});
  }
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const genuine = await genuineReport();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'credit-embed-'));
  const pdfPath = path.join(workDir, 'report.pdf');
  fs.writeFileSync(pdfPath, genuine.pdf);
  const tamperedPath = path.join(workDir, 'tampered.pdf');
  fs.writeFileSync(tamperedPath, Buffer.concat([genuine.pdf, Buffer.from('\n% altered after issue\n')]));
  const server = await tenderPlatform();
  const platformUrl = `http://127.0.0.1:${server.address().port}/bid/42`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--lang=zh-CN'],
  });
  const page = await browser.newPage({ locale: 'zh-CN' });
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  const violations = [];
  const granted = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (/Content Security Policy|CORS/i.test(message.text())) violations.push(message.text());
  });
  // A JSON or PDF POST from another origin is preflighted: an answer at all means it was granted.
  page.on('response', (response) => {
    if (response.url().includes('/api/v1/verify/')) granted.push(response.headers()['access-control-allow-origin']);
  });
  const outcome = async (id) => {
    const box = await page.waitForSelector(`#${id} .result > [data-outcome], #${id} .result > [data-problem]`);
    return { outcome: await box.getAttribute('data-outcome'), problem: await box.getAttribute('data-problem'), text: await box.innerText() };
  };
  const verifyCode = async (code) => {
    await page.fill('#by-code input[name=code]', code);
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/verify/code') && r.request().method() === 'POST');
    await page.click('#by-code button');
    await answered;
    return outcome('by-code');
  };
  const verifyFile = async (file) => {
    await page.setInputFiles('#by-file input[name=file]', file);
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/verify/file') && r.request().method() === 'POST');
    await page.click('#by-file button');
    await answered;
    return outcome('by-file');
  };
  try {
    await page.goto(platformUrl);
    await check('the element loads into a page of another origin under its CSP', page, async () => {
      await page.waitForSelector('#by-code input[name=code]');
      expect(new URL(page.url()).origin !== new URL(BASE_URL).origin, 'the page is on another origin');
    });
    await check('a genuine code is VALID, with the report summary', page, async () => {
      const result = await verifyCode(genuine.code);
      expect(result.outcome === 'VALID', `outcome ${JSON.stringify(result)}`);
      expect(result.text.includes('真实有效') && result.text.includes('报告编号'), result.text);
    });
    await check('an unknown code is NOT_FOUND', page, async () => {
      const result = await verifyCode('ABCD2345EFGH6789');
      expect(result.outcome === 'NOT_FOUND', `outcome ${JSON.stringify(result)}`);
    });
    await check('a malformed code shows the problem in Chinese with its code', page, async () => {
      const result = await verifyCode('12');
      expect(result.problem === 'INVALID_CODE', `problem ${JSON.stringify(result)}`);
      expect(result.text.includes('错误代码：INVALID_CODE'), result.text);
    });
    await check('the genuine PDF is VALID by file', page, async () => {
      const result = await verifyFile(pdfPath);
      expect(result.outcome === 'VALID', `outcome ${JSON.stringify(result)}`);
    });
    await check('an altered PDF is TAMPERED by file', page, async () => {
      const result = await verifyFile(tamperedPath);
      expect(result.outcome === 'TAMPERED', `outcome ${JSON.stringify(result)}`);
      await page.screenshot({ path: path.join(SHOTS, 'embed-tender-platform.png'), fullPage: true });
    });
    await check('every answer was granted to any origin, and nothing was blocked', page, async () => {
      expect(granted.length >= 5 && granted.every((g) => g === '*'), `Access-Control-Allow-Origin: ${granted.join(', ')}`);
      expect(violations.length === 0, `blocked: ${violations.join(' | ')}`);
      expect(pageErrors.length === 0, `script errors: ${pageErrors.join(' | ')}`);
    });
    await check('the service example page embeds the element', page, async () => {
      await page.goto(`${BASE_URL}/embed-example.html`);
      await page.waitForSelector('credit-report-verify input[name=code]');
    });
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const passed = results.filter(Boolean).length;
  console.log(`embed: ${passed} passed, ${results.length - passed} failed`);
  process.exit(results.length - passed ? 1 : 0);
}

main().catch((error) => {
  console.error(error.stack || error);
  process.exit(1);
});
