// The seller's brand (issue 17), end to end: the admin sets an accent colour and uploads a logo on
// "Your company", is refused a colour too light for white text, previews, saves; the sign-in page
// and a buyer's home then show the name, the logo and the colour, with Portico only as "Powered by
// Portico", and pass axe. Screenshots at 1366 px and 390 px.
//
// This test runs its own `portico demo` on a fresh file, so the shared demo server that the other
// tests walk keeps its look.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MOBILE, PASSWORD, PHONE, assertNoHorizontalOverflow, drawPng, launchBrowser, screenshot } from './helpers.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BIN = process.env.PORTICO_BIN;
const WIDE = { width: 1366, height: 900 };
const ADMIN = 'admin@meridian-supply.example';
const BUYER = 'manager@lakesidefamilycl.example';
const ACCENT = '#7a1f5c';
const ACCENT_RGB = 'rgb(122, 31, 92)';

let browser;
let server;
let baseUrl;
let workDir;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** A 200×60 RGBA PNG drawn here: a plum badge with three light bars (the test's "logo"). */
function logoPng() {
  return drawPng(200, 60, 4, (x, y) => {
    const badge = x < 60;
    const bar = badge && x > 12 && x < 48 && [14, 27, 40].some((t) => y >= t && y < t + 6);
    return bar ? [250, 232, 243, 255] : badge ? [122, 31, 92, 255] : (y > 22 && y < 38 && x > 70 ? [60, 60, 70, 255] : [0, 0, 0, 0]);
  });
}

async function newCtx(viewport = WIDE, options = {}) {
  const context = await browser.newContext({ baseURL: baseUrl, viewport, ...options });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  return context;
}

async function signIn(page, email) {
  await page.goto('/login');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login', { waitUntil: 'load' }),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

/** Serious and critical axe violations of the page as it is. */
async function axeProblems(page) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) })));
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The header shows the seller's name and a logo that loaded. */
async function assertBranded(page, name, what) {
  assert.equal((await page.locator('header.topbar .brand-name').innerText()).trim(), name, `${what}: name`);
  const logo = page.locator('header.topbar img.brand-logo');
  assert.equal(await logo.count(), 1, `${what}: logo`);
  assert.ok(await logo.evaluate((img) => img.complete && img.naturalWidth > 0), `${what}: the logo loaded`);
  assert.match(await page.locator('footer.site-footer').innerText(), /Powered by Portico/, `${what}: powered by`);
  assert.match(await page.title(), new RegExp(`· ${name}$`), `${what}: title`);
}

/** Screenshots at 1366 px and 390 px (a touch phone), without horizontal scrolling on the phone. */
async function shots(page, name) {
  await screenshot(page, `${name}-desktop`);
  const phone = await newCtx(PHONE, MOBILE);
  const cookies = await page.context().cookies();
  await phone.addCookies(cookies);
  const p = await phone.newPage();
  await p.goto(page.url());
  await assertNoHorizontalOverflow(p, `${name} on a phone`);
  await screenshot(p, `${name}-phone`);
  await phone.close();
}

before(async () => {
  assert.ok(BIN, 'run.sh passes PORTICO_BIN');
  browser = await launchBrowser();
  workDir = mkdtempSync(join(tmpdir(), 'portico-brand-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const log = openSync(join(workDir, 'branding-server.log'), 'w');
  server = spawn(BIN, ['demo', '--database-url', `sqlite://${join(workDir, 'brand.db')}`, '--bind', `127.0.0.1:${port}`], {
    cwd: workDir,
    stdio: ['ignore', log, log],
  });
  let up = false;
  for (let i = 0; i < 600 && !up; i++) {
    assert.equal(server.exitCode, null, 'portico demo exited early');
    up = await fetch(`${baseUrl}/healthz`).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(up, `${baseUrl}/healthz answers`);
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => { server.once('exit', resolve); setTimeout(resolve, 5000); });
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('branding', () => {
  test('branding: the admin previews and saves an accent and a logo; sign-in and a buyer home show them', async () => {
    const context = await newCtx();
    const page = await context.newPage();
    await signIn(page, ADMIN);
    await page.goto('/admin/company');
    // The demo is branded already: its name and generated logo.
    await assertBranded(page, 'Meridian Medical & Industrial Supply', 'the demo');

    // A colour too light for white text is refused next to its field, the input kept.
    await page.fill('#co-accent', '#ffe14d');
    await submit(page, page.getByRole('button', { name: 'Preview' }));
    assert.match(await page.locator('#co-accent-error').innerText(), /too light.*4\.5:1/s);
    assert.equal(await page.locator('#co-accent').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.inputValue('#co-accent'), '#ffe14d');
    assert.equal(await page.locator('#brand-preview').count(), 0);

    // Preview: the header and a primary button in the new colour, the new logo; nothing saved yet.
    await page.fill('#co-accent', ACCENT);
    await page.setInputFiles('#co-logo', { name: 'plum-logo.png', mimeType: 'image/png', buffer: logoPng() });
    await submit(page, page.getByRole('button', { name: 'Preview' }));
    const preview = page.locator('#brand-preview');
    await preview.waitFor();
    assert.match(await page.locator('#preview-logo').getAttribute('src'), /^data:image\/png;base64,/);
    assert.equal(await page.locator('#preview-button').evaluate((b) => getComputedStyle(b).backgroundColor), ACCENT_RGB);
    assert.notEqual(
      await page.locator('main .btn-primary[value="save"]').evaluate((b) => getComputedStyle(b).backgroundColor),
      ACCENT_RGB,
      'outside the preview the saved colour still applies',
    );
    assert.deepEqual(await axeProblems(page), [], 'the preview passes axe');
    await shots(page, 'branding-preview');

    // Save: the previewed logo is carried by the form.
    await submit(page, page.getByRole('button', { name: 'Save' }));
    assert.match(page.url(), /notice=company_saved/);
    await assertBranded(page, 'Meridian Medical & Industrial Supply', 'after saving');
    assert.equal(await page.locator('main .btn-primary').first().evaluate((b) => getComputedStyle(b).backgroundColor), ACCENT_RGB);
    assert.equal(await page.locator('#current-logo').evaluate((img) => img.naturalWidth), 200);
    await context.close();

    // A buyer's home: the name, the logo and the colour on buttons and the menu's highlight.
    const buyer = await newCtx();
    const home = await buyer.newPage();
    await signIn(home, BUYER);
    await home.goto('/portal');
    await assertBranded(home, 'Meridian Medical & Industrial Supply', 'buyer home');
    assert.equal(await home.locator('header.topbar').evaluate((h) => getComputedStyle(h).borderTopColor), ACCENT_RGB);
    const primary = home.locator('main .btn-primary').first();
    if (await primary.count()) assert.equal(await primary.evaluate((b) => getComputedStyle(b).backgroundColor), ACCENT_RGB);
    assert.deepEqual(await axeProblems(home), [], 'the buyer home passes axe');
    await shots(home, 'branding-buyer-home');
    await buyer.close();

    // The sign-in page, signed out.
    const anon = await newCtx();
    const login = await anon.newPage();
    await login.goto('/login');
    await assertBranded(login, 'Meridian Medical & Industrial Supply', 'sign-in');
    assert.equal(await login.getByRole('button', { name: 'Sign in' }).evaluate((b) => getComputedStyle(b).backgroundColor), ACCENT_RGB);
    assert.deepEqual(await axeProblems(login), [], 'the sign-in page passes axe');
    await shots(login, 'branding-sign-in');
    await anon.close();
  });
});
