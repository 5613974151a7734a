// Shared helpers for the Portico browser tests: browser launch, sign-in, screenshots, checks.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE_URL = (process.env.PORTICO_URL || '').replace(/\/$/, '');
if (!BASE_URL) {
  throw new Error('PORTICO_URL is not set: run the tests through e2e/run.sh (it starts the demo server).');
}

export const PASSWORD = 'meridian-demo-2026';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
/** Context options of a touch phone (with PHONE): mobile layout viewport, touch, a dense screen. */
export const MOBILE = { isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

export const SCREENSHOT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');
mkdirSync(SCREENSHOT_DIR, { recursive: true });

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  // Without these Chromium waits on network services that this closed network never answers.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/**
 * A fresh, cookie-less context (its own session) with the given viewport; `options` go to
 * browser.newContext (e.g. MOBILE for a touch phone that honours the viewport meta tag).
 */
export async function newContext(browser, viewport = DESKTOP, options = {}) {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport, ...options });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  return context;
}

export function url(path) {
  return BASE_URL + path;
}

/** The path (and query) of the page's current URL. */
export function pathOf(page) {
  const u = new URL(page.url());
  return u.pathname + u.search;
}

/** Signs in through the login form and waits for the landing page. */
export async function signIn(page, email, password = PASSWORD) {
  await page.goto('/login');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login', { waitUntil: 'load' }),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

/** Signs out with the top bar button and checks the signed-out notice on /login. */
export async function signOut(page) {
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/login', { waitUntil: 'load' }),
    page.locator('.who').getByRole('button', { name: 'Sign out' }).click(),
  ]);
  assert.equal(pathOf(page), '/login?notice=signed_out');
  assert.equal((await page.locator('.flash-ok[role="status"]').innerText()).trim(), 'You are signed out.');
  assert.equal(await page.locator('nav.nav').count(), 0, 'no navigation once signed out');
}

/** Texts of the main navigation links, in order. */
export async function navTexts(page) {
  return (await page.locator('nav.nav a').allInnerTexts()).map((t) => t.trim());
}

/**
 * A link of the main navigation, ready to click: on a phone the items wait behind the "Menu"
 * button, which is opened first when it is collapsed.
 */
export async function navLink(page, name) {
  const toggle = page.locator('#menu-toggle');
  if (await toggle.isVisible() && (await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  return page.locator('nav.nav').getByRole('link', { name, exact: true });
}

/**
 * Counts every real click or tap the pages of this context receive, across navigations: a
 * listener (capture phase, trusted events only) keeps the count in sessionStorage. Typing and
 * pasting are not clicks; script-made clicks (`el.click()`) are not counted either.
 */
export async function countClicks(context) {
  await context.addInitScript(() => {
    window.addEventListener('click', (e) => {
      if (e.isTrusted) sessionStorage.setItem('e2e-clicks', String(Number(sessionStorage.getItem('e2e-clicks') || 0) + 1));
    }, true);
  });
}

/** Starts counting clicks from zero (in the tab of `page`). */
export async function resetClicks(page) {
  await page.evaluate(() => sessionStorage.setItem('e2e-clicks', '0'));
}

/** The clicks counted in the tab of `page` since `resetClicks`. */
export async function clicksSoFar(page) {
  return Number(await page.evaluate(() => sessionStorage.getItem('e2e-clicks') || 0));
}

/** Full-page screenshot into e2e/screenshots/<name>.png. */
export async function screenshot(page, name) {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Asserts the document is not wider than the viewport (no horizontal scrolling). */
export async function assertNoHorizontalOverflow(page, what) {
  const { scrollWidth, clientWidth, viewport } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    viewport: window.innerWidth,
  }));
  if (scrollWidth > viewport) {
    // Name the elements that stick out, to make the failure actionable.
    const culprits = await page.evaluate((vw) => {
      const out = [];
      for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.right > vw + 0.5 && out.length < 8) {
          out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).trim().split(/\s+/).join('.') : ''} right=${Math.round(r.right)}`);
        }
      }
      return out;
    }, viewport);
    assert.fail(`${what}: page is ${scrollWidth}px wide on a ${viewport}px viewport (client ${clientWidth}px); overflowing: ${culprits.join(', ')}`);
  }
}

/** A string unique to this run, for e-mails and names. */
export function uniqueSuffix() {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

// ---- The buyer's cart and catalog, as several suites set them up ----

/** Clicks `locator` and waits for a full page load at a URL matching `predicate`. */
export async function clickTo(page, locator, predicate) {
  await Promise.all([page.waitForURL(predicate, { waitUntil: 'load' }), locator.click()]);
}

/** Removes every line of the signed-in user's cart (for the working account). */
export async function emptyCart(page) {
  await page.goto('/portal/cart');
  const rows = page.locator('#cart tbody tr[data-sku]');
  for (let n = await rows.count(); n > 0; n = await rows.count()) {
    await rows.first().getByRole('button', { name: /^Remove/ }).click();
    await page.waitForFunction((before) => document.querySelectorAll('#cart tbody tr[data-sku]').length < before, n);
  }
  assert.equal(await rows.count(), 0, 'the cart is empty');
}

/**
 * Up to `want` orderable catalog products that are in stock for their first valid quantity (the
 * value the row's Add form proposes), read from /portal/catalog and up to `maxPages` pages after.
 * Returns [{ sku, qty }] in catalog order.
 */
export async function inStockProducts(page, want, maxPages = 10) {
  await page.goto('/portal/catalog');
  const found = new Map();
  for (let n = 1; n <= maxPages && found.size < want; n++) {
    const rows = await page.locator('table.catalog tbody tr').evaluateAll((trs) => trs.map((tr) => {
      const form = tr.querySelector('form.add-row');
      const badge = tr.querySelector('.badge');
      return {
        sku: form?.querySelector('input[name="sku"]')?.value ?? null,
        qty: Number(form?.querySelector('input.qty')?.value ?? NaN),
        inStock: badge?.classList.contains('badge-active') ?? false,
        stockText: badge?.textContent ?? '',
      };
    }));
    for (const r of rows) {
      const onHand = Number((r.stockText.match(/^(\d+) in stock$/) || [])[1] ?? NaN);
      if (r.sku && r.inStock && Number.isInteger(r.qty) && r.qty > 0 && onHand >= r.qty && !found.has(r.sku)) {
        found.set(r.sku, r.qty);
        if (found.size === want) break;
      }
    }
    const next = page.locator('.pagination a', { hasText: 'Next page' });
    if (found.size >= want || !(await next.count())) break;
    await clickTo(page, next, (u) => u.pathname === '/portal/catalog');
  }
  assert.equal(found.size, want, `${want} in-stock products in the first ${maxPages} catalog pages`);
  return [...found].map(([sku, qty]) => ({ sku, qty }));
}

/** The lines of an order page as SKU → quantity. */
export async function orderLines(page) {
  const rows = await page.locator('table.order-lines tbody tr[data-sku]').evaluateAll((trs) => trs.map((tr) => [
    tr.dataset.sku,
    Number.parseInt(tr.querySelector('td.num').textContent.trim(), 10),
  ]));
  return new Map(rows);
}

/** CRC-32 of a buffer (PNG chunks carry one). */
function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/**
 * A PNG drawn here, w×h pixels of 8-bit RGB (`channels` 3) or RGBA (4): `pixel(x, y)` gives each
 * pixel's channel values. Tests upload these as logos and product pictures.
 */
export function drawPng(w, h, channels, pixel) {
  const row = w * channels + 1;
  const raw = Buffer.alloc(row * h);
  for (let y = 0; y < h; y++) {
    raw[y * row] = 0; // filter: none
    for (let x = 0; x < w; x++) raw.set(pixel(x, y), y * row + 1 + x * channels);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, channels === 4 ? 6 : 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}
