// Shared helpers for the Portico browser tests: browser launch, sign-in, screenshots, checks.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
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
