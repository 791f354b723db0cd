// Browser sign-in through a real OpenID Provider (tests/oidc/provider.mjs) in Debian's Chromium:
// 登录 on the apply page, the provider's own login page, back signed in (the session only in an
// HttpOnly cookie), apply, download the PDF, 退出 here and at the provider.
//
//   BASE_URL       the host, started with the provider as its oidc_issuer
//   PROVIDER_URL   the provider, started with --service-url BASE_URL
//   SCREENSHOT_DIR default target/browser-screenshots
//   CHROMIUM       default /usr/bin/chromium
//
// Prints one line per check and closes with "N passed, N failed"; exits non-zero on any failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BASE_URL = (process.env.BASE_URL || '').replace(/\/$/, '');
const PROVIDER_URL = (process.env.PROVIDER_URL || '').replace(/\/$/, '');
const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || 'target/browser-screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!BASE_URL || !PROVIDER_URL) {
  console.error('BASE_URL and PROVIDER_URL are required');
  process.exit(2);
}

class CheckFailed extends Error {}
function expect(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

const results = [];
async function check(name, page, body) {
  try {
    await body();
    results.push(true);
    console.log(`ok - ${name}`);
  } catch (error) {
    results.push(false);
    console.log(`FAILED - ${name}: ${error instanceof CheckFailed ? error.message : error.stack || error}`);
    await page.screenshot({ path: path.join(SHOTS, `FAILED-signin-${name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
  }
}

async function signInAtProvider(page, account) {
  await page.click('#provider-sign-in');
  await page.waitForURL(`${PROVIDER_URL}/**`);
  await page.fill('input[name=login]', account);
  await page.fill('input[name=password]', 'any');
  await page.click('button.login-submit');
  await page.waitForURL(`${BASE_URL}/**`);
  await page.waitForSelector('#signed-in:not([hidden])');
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'credit-signin-'));
  const context = await chromium.launchPersistentContext(path.join(workDir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--lang=zh-CN'],
    acceptDownloads: true,
    locale: 'zh-CN',
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  try {
    await check('an entity signs in through the identity provider, applies and downloads', page, async () => {
      await page.goto(`${BASE_URL}/apply.html`);
      await page.waitForSelector('#provider-sign-in');
      await page.screenshot({ path: path.join(SHOTS, 'signin-apply-signed-out.png'), fullPage: true });
      await signInAtProvider(page, 'entity-1');
      expect(page.url() === `${BASE_URL}/apply.html`, `came back to ${page.url()}`);
      const who = await page.innerText('#signed-in .who');
      expect(who.includes('91620321MA72BR0W1E'), `signed in as: ${who}`);
      const cookies = await context.cookies(BASE_URL);
      const session = cookies.find((c) => c.name === 'credit_session');
      expect(session && session.httpOnly && session.secure && session.sameSite === 'Strict', `session cookie ${JSON.stringify(session)}`);
      const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
      expect(!stored.includes('eyJ'), `a token is kept in page storage: ${stored}`);
      await page.waitForSelector('#domain-list input[type=checkbox]');
      await page.check('input[name=months][value="12"]');
      const purpose = await page.$eval('#purpose option[value]:not([value=""])', (o) => o.value);
      await page.selectOption('#purpose', purpose);
      await page.click('#apply-submit');
      await page.waitForSelector('#report-title, #apply-status .notice.error');
      const problem = await page.$('#apply-status .notice.error');
      expect(!problem, `application refused: ${problem && await problem.innerText()}`);
      const button = await page.waitForSelector('#download-pdf');
      const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
      const saved = path.join(workDir, 'signed-in.pdf');
      await download.saveAs(saved);
      expect(fs.readFileSync(saved).subarray(0, 5).toString() === '%PDF-', 'the download is not a PDF');
      await page.screenshot({ path: path.join(SHOTS, 'signin-apply-report.png'), fullPage: true });
    });

    await check('退出 ends the session here and at the provider', page, async () => {
      await page.click('#signed-in .sign-out');
      await page.waitForURL(`${PROVIDER_URL}/**`);
      await page.click('button[name=logout]');
      await page.waitForURL(`${BASE_URL}/**`);
      const session = await (await page.request.get(`${BASE_URL}/auth/session`)).json();
      expect(session.signed_in === false, `still signed in: ${JSON.stringify(session)}`);
      await page.goto(`${BASE_URL}/apply.html`);
      await page.waitForSelector('#provider-sign-in');
      expect(await page.isHidden('#apply-form'), 'the application form is shown while signed out');
    });

    await check('a refused sign-in is a Chinese page with a way back', page, async () => {
      await page.goto(`${BASE_URL}/auth/callback?error=access_denied&state=none`);
      const text = await page.innerText('main');
      expect(text.includes('登录未成功') && text.includes('重新登录'), text);
      await page.screenshot({ path: path.join(SHOTS, 'signin-refused.png'), fullPage: true });
    });

    await check('no script error happened', page, async () => {
      expect(pageErrors.length === 0, `script errors: ${pageErrors.join(' | ')}`);
    });
  } finally {
    await context.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const passed = results.filter(Boolean).length;
  console.log(`${passed} passed, ${results.length - passed} failed`);
  process.exit(results.length - passed ? 1 : 0);
}

main().catch((error) => {
  console.error(error.stack || error);
  process.exit(1);
});
