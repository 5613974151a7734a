// Accessible (issue 17): every page of every role passes axe-core with no serious or critical
// violation, at 1366×900 and on a 390×844 phone; signed-out pages and error pages too. The
// accessibility*.test.mjs files each run a share of the roles through describeAccessibility.
//
// The pages are found the way a person finds them: each role's navigation, then one page of every
// kind its links lead to (an order, an invoice, a product, a quote, an account, the admin pages…),
// two links deep. A page "kind" is its path with every segment holding a digit replaced (orders
// SO-100008 and SO-100009 are one kind), so the walk stays bounded as the demo grows. A few pages
// only exist after an action (a cart with lines, checkout, quick-order results, a refused form,
// an error in the shell, a failed sign-in); they are reached by doing that action.
//
// axe is evaluated in the page from the test (page.evaluate is not subject to the app's
// Content-Security-Policy, which forbids inline scripts and so would refuse an injected tag).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { MOBILE, PHONE, emptyCart, launchBrowser, newContext, signIn } from './helpers.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const WIDE = { width: 1366, height: 900 };
const VIEWPORTS = [
  { name: 'desktop', viewport: WIDE, options: {} },
  { name: 'phone', viewport: PHONE, options: MOBILE },
];
/** Impacts that fail the test; minor and moderate ones are listed in the log only. */
const FAILING = new Set(['serious', 'critical']);
/** Links followed from the navigation's pages: 2 reaches e.g. an account's statement. */
const DEPTH = 2;
/** A bound on the pages of one role, so a link explosion fails loudly instead of timing out. */
const MAX_PAGES = 90;

export const ROLES = [
  { role: 'buyer-manager', email: 'manager@lakesidefamilycl.example', extra: ['/me/password', '/me/notifications', '/portal/approvals', '/portal/buy-again'] },
  { role: 'buyer', email: 'buyer@lakesidefamilycl.example', extra: ['/me/password', '/portal/buy-again'] },
  { role: 'buyer-viewer', email: 'viewer@lakesidefamilycl.example', extra: ['/me/password'] },
  { role: 'buyer-finance', email: 'finance@lakesidefamilycl.example', extra: ['/me/password'] },
  { role: 'rep', email: 'rosa.martinez@meridian-supply.example', extra: ['/me/password', '/me/notifications'] },
  { role: 'customer-service', email: 'carla.nguyen@meridian-supply.example', extra: ['/me/password', '/licences'] },
  { role: 'finance', email: 'fiona.walsh@meridian-supply.example', extra: ['/me/password', '/finance/aging', '/finance/payments/new'] },
  {
    role: 'admin',
    email: 'admin@meridian-supply.example',
    // The admin pages reached from inside other pages, named too in case a link moves.
    extra: ['/me/password', '/me/notifications', '/admin/accounts/new', '/admin/products/new', '/admin/warehouses',
      '/admin/catalogs', '/admin/imports', '/admin/account-groups', '/admin/webhooks', '/admin/api-tokens',
      '/admin/mail', '/admin/company', '/admin/quotes', '/admin/commissions', '/admin/routing',
      '/admin/licence-rules', '/licences', '/finance/aging', '/finance/payments/new'],
  },
];

/** Paths not to follow: downloads, sign-out, one-time links and the fake payment provider. */
const SKIP = [
  /\.(csv|pdf|json|png|svg|ico)$/, /\/(csv|pdf|document)$/, /^\/static\//, /^\/admin\/exports\//,
  /^\/api\//, /^\/logout/, /^\/set-password\//, /^\/test-provider\//, /^\/healthz/,
];

/** The kind of a page: its path with every segment that holds a digit generalised. */
const kindOf = (path) => path.split('/').map((s) => (/\d/.test(s) ? ':id' : s)).join('/');

/** Loads axe into the page (once per document) and runs it; returns its violations. */
async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
}

/**
 * Runs axe on the page as it is now and adds its serious and critical violations to `found`
 * (one line per rule and page, with up to five target selectors).
 */
async function audit(page, label, found) {
  await page.waitForLoadState('load');
  // htmx swaps content in after load on some pages (badges, import status); let it settle.
  await page.waitForTimeout(100);
  for (const v of await axeViolations(page)) {
    const line = `${label}: ${v.id} (${v.impact}) ${v.help} — ${v.targets.slice(0, 5).join(' | ')}${v.targets.length > 5 ? ` … +${v.targets.length - 5}` : ''}`;
    if (FAILING.has(v.impact)) found.push(line);
    else console.log(`note (not failing): ${line}`);
  }
}

/** Same-origin links of the page worth following (as paths with their query). */
async function linksOf(page) {
  const hrefs = await page.evaluate(() => [...document.querySelectorAll('a[href]:not([download])')]
    .map((a) => a.href));
  const origin = new URL(page.url()).origin;
  const out = [];
  for (const h of hrefs) {
    const u = new URL(h);
    if (u.origin !== origin) continue;
    const path = u.pathname + u.search;
    if (SKIP.some((re) => re.test(u.pathname))) continue;
    out.push(path);
  }
  return out;
}

/**
 * Walks the role's pages breadth first from its navigation (and `extra`), auditing one page of
 * each kind, and returns the paths visited.
 */
async function walk(page, extra, label, found) {
  const nav = await page.evaluate(() => [...document.querySelectorAll('nav.nav a')].map((a) => a.getAttribute('href')));
  const seen = new Set();
  const visited = [];
  let frontier = [...nav, ...extra].map((path) => ({ path, from: 'the navigation' }));
  for (let depth = 0; depth <= DEPTH && frontier.length; depth++) {
    const next = [];
    for (const { path, from } of frontier) {
      const kind = kindOf(new URL(path, 'http://x').pathname);
      if (seen.has(kind)) continue;
      seen.add(kind);
      assert.ok(visited.length < MAX_PAGES, `${label}: more than ${MAX_PAGES} kinds of page; raise MAX_PAGES or skip a link family`);
      const res = await page.goto(path);
      const type = res?.headers()['content-type'] ?? '';
      if (!type.startsWith('text/html')) continue;
      // A link the role is shown but may not follow is a dead end: reported with the violations.
      if (res.status() >= 400) {
        found.push(`${label}: GET ${path} (linked from ${from}) answered ${res.status()}`);
        continue;
      }
      visited.push(path);
      await audit(page, `${label} ${path}`, found);
      if (depth < DEPTH) next.push(...(await linksOf(page)).map((to) => ({ path: to, from: path })));
    }
    frontier = next;
  }
  return visited;
}

/** Puts one orderable catalog product in the signed-in buyer's cart; returns its SKU. */
async function addOneToCart(page) {
  await page.goto('/portal/catalog');
  const form = page.locator('form.add-row').first();
  const sku = await form.locator('input[name="sku"]').inputValue();
  await form.getByRole('button', { name: 'Add' }).click();
  await page.waitForFunction(() => document.querySelector('form.add-row .add-status')?.textContent.trim());
  return sku;
}

/** Pages that only exist after an action, audited with the buyer manager. */
async function buyerStates(page, label, found) {
  await emptyCart(page);
  await addOneToCart(page);
  await page.goto('/portal/cart');
  await audit(page, `${label} /portal/cart (with a line)`, found);
  await page.goto('/portal/checkout');
  await audit(page, `${label} /portal/checkout (with a line)`, found);
  await emptyCart(page);

  // Quick order with a typo ("did you mean") and a bad quantity: the problems table.
  await page.goto('/portal/quick-order');
  const sku = await page.evaluate(async () => {
    const res = await fetch('/portal/catalog');
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    return doc.querySelector('form.add-row input[name="sku"]')?.value;
  });
  await page.fill('#qo-lines', `${sku.slice(0, -1)}X 2\nNOPE-A11Y-0001 ten`);
  // Checked as typed, before anything is added: the verdict and the lines to fix in the form.
  await page.locator('#qo-fixes tbody tr').first().waitFor();
  await audit(page, `${label} /portal/quick-order (checked as typed)`, found);
  await page.locator('form', { has: page.locator('#qo-lines') }).getByRole('button', { name: 'Add to cart' }).click();
  await page.locator('#qo-problems').waitFor();
  await audit(page, `${label} /portal/quick-order (problems)`, found);
  await emptyCart(page);

  // An order that does not exist: the error inside the shell.
  await page.goto('/portal/orders/SO-0');
  await audit(page, `${label} /portal/orders/SO-0 (error in the shell)`, found);
}

/** The admin's refused stock form (422 in the shell, the reason next to the field). */
async function adminStates(page, label, found) {
  await page.goto('/admin/products');
  await page.locator('table.products tbody tr a.product-name').first().click();
  await page.waitForURL((u) => /^\/admin\/products\/[^/]+$/.test(u.pathname), { waitUntil: 'load' });
  await page.fill('#delta', 'ten');
  await page.fill('#reason', 'Accessibility check');
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/stock')),
    page.getByRole('button', { name: 'Adjust stock' }).click(),
  ]);
  await audit(page, `${label} refused stock form (error in the shell)`, found);
  await page.goto('/admin/accounts/0');
  await audit(page, `${label} /admin/accounts/0 (not found in the shell)`, found);
}

/** Fails with every violation, one per line, when there is any. */
function assertNone(found, what) {
  assert.ok(found.length === 0, `${found.length} serious or critical accessibility violations or dead links ${what}:\n  ${found.join('\n  ')}`);
}

/**
 * The accessibility tests of some roles (names from ROLES) at some viewports ('desktop',
 * 'phone'), with the signed-out pages when `signedOut`. One file cannot hold them all: the runner
 * gives a whole file 90 s, and axe needs about half a second a page.
 */
export function describeAccessibility(title, { roles = [], viewports = ['desktop', 'phone'], signedOut = false }) {
  describe(title, () => {
    let browser;
    before(async () => { browser = await launchBrowser(); });
    after(async () => { await browser?.close(); });

    for (const { name, viewport, options } of VIEWPORTS.filter((v) => viewports.includes(v.name))) {
      if (signedOut) {
        test(`signed out (${name}): sign-in, forgot password and their errors pass axe`, async () => {
          const context = await newContext(browser, viewport, options);
          try {
            const page = await context.newPage();
            const found = [];
            for (const path of ['/login', '/login?notice=signed_out', '/forgot', '/set-password/not-a-token', '/no-such-page']) {
              await page.goto(path);
              await audit(page, `signed out ${path}`, found);
            }
            await page.goto('/login');
            await page.fill('#email', 'nobody@example.com');
            await page.fill('#password', 'wrong-password-1');
            await page.getByRole('button', { name: 'Sign in' }).click();
            await audit(page, 'signed out /login (refused)', found);
            await page.goto('/forgot');
            await page.fill('#email', 'nobody@example.com');
            await page.locator('main button[type="submit"]').click();
            await audit(page, 'signed out /forgot (sent)', found);
            assertNone(found, `signed out (${name})`);
          } finally {
            await context.close();
          }
        });
      }

      for (const r of ROLES.filter((x) => roles.includes(x.role))) {
        test(`${r.role} (${name}): every page of the role passes axe`, async () => {
          const context = await newContext(browser, viewport, options);
          try {
            const page = await context.newPage();
            const found = [];
            await signIn(page, r.email);
            const label = `${r.role} ${name}`;
            const visited = await walk(page, r.extra, label, found);
            console.log(`${label}: ${visited.length} pages audited: ${visited.join(' ')}`);
            if (r.role === 'buyer-manager') await buyerStates(page, label, found);
            if (r.role === 'admin') await adminStates(page, label, found);
            assertNone(found, `as ${r.role} (${name})`);
          } finally {
            await context.close();
          }
        });
      }
    }
  });
}
