// Every demo role: sign-in landing page, role-aware navigation, refusal of other areas,
// desktop and phone screenshots, sign-out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, PHONE, assertNoHorizontalOverflow, launchBrowser, navTexts, newContext, pathOf,
  screenshot, signIn, signOut,
} from './helpers.mjs';

const ROLES = [
  {
    role: 'admin',
    email: 'admin@meridian-supply.example',
    landing: '/admin/accounts',
    // Administrators also hold the desk and finance permissions, and see every order.
    nav: ['Desk', 'Orders', 'Quotes', 'Commissions', 'Dashboards', 'Finance', 'Invoices', 'Payments', 'Accounts', 'Products', 'Categories', 'Pricing', 'Staff'],
    refused: ['/portal', '/rep'],
  },
  {
    role: 'rep',
    email: 'rosa.martinez@meridian-supply.example',
    landing: '/rep',
    // Reps order for their customers, so they have the staff order list.
    nav: ['My accounts', 'Orders', 'Quotes', 'Commissions', 'Dashboards'],
    refused: ['/finance', '/admin/accounts', '/portal'],
  },
  {
    role: 'customer-service',
    email: 'carla.nguyen@meridian-supply.example',
    landing: '/desk',
    nav: ['Desk', 'Orders', 'Quotes'],
    refused: ['/finance', '/admin/staff'],
  },
  {
    role: 'finance',
    email: 'fiona.walsh@meridian-supply.example',
    landing: '/finance',
    // Finance sees every account, so it sees every order too.
    nav: ['Orders', 'Commissions', 'Finance', 'Invoices', 'Payments'],
    refused: ['/desk', '/admin/accounts'],
  },
  {
    role: 'buyer-manager',
    email: 'manager@lakesidefamilycl.example',
    landing: '/portal',
    nav: ['Home', 'Catalog', 'Quick order', 'Orders', 'Invoices', 'Payments', 'Statement', 'Lists', 'Cart', 'Account', 'Users'],
    refused: ['/admin/accounts', '/rep'],
  },
  {
    role: 'buyer',
    email: 'buyer@lakesidefamilycl.example',
    landing: '/portal',
    nav: ['Home', 'Catalog', 'Quick order', 'Orders', 'Lists', 'Cart', 'Account'],
    refused: ['/admin/accounts', '/portal/users'],
  },
  {
    role: 'buyer-finance',
    email: 'finance@lakesidefamilycl.example',
    landing: '/portal',
    // Billing only: no catalog, quick order, lists or cart.
    nav: ['Home', 'Orders', 'Invoices', 'Payments', 'Statement', 'Account'],
    refused: ['/finance', '/portal/users', '/portal/catalog', '/portal/lists'],
  },
  {
    role: 'buyer-viewer',
    email: 'viewer@lakesidefamilycl.example',
    landing: '/portal',
    // No right to order: no quick order and no cart.
    nav: ['Home', 'Catalog', 'Orders', 'Lists', 'Account'],
    refused: ['/desk', '/portal/users'],
  },
];

describe('roles', () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  for (const r of ROLES) {
    test(`${r.role}: lands on ${r.landing}, sees only its nav, is refused elsewhere, signs out`, async () => {
      const context = await newContext(browser, DESKTOP);
      try {
        const page = await context.newPage();
        // Nothing the pages do is refused by the content security policy (htmx's inline
        // indicator style was, on every page), and no asset is missing (the favicon was).
        const problems = [];
        page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
        page.on('response', (res) => { if (res.status() === 404) problems.push(`404 ${res.url()}`); });
        await signIn(page, r.email);

        assert.equal(pathOf(page), r.landing, 'landing page after sign-in');
        assert.deepEqual(await navTexts(page), r.nav, 'navigation links');
        const active = page.locator('nav.nav a[aria-current="page"]');
        assert.equal(await active.count(), 1, 'exactly one active nav item');
        assert.equal(await active.getAttribute('href'), r.landing, 'the landing page is the active nav item');
        assert.equal(await page.locator('.flash-error').count(), 0, 'no error on the landing page');

        await screenshot(page, `${r.role}-desktop`);
        await page.setViewportSize(PHONE);
        await page.reload();
        await assertNoHorizontalOverflow(page, `${r.role} landing page on a phone`);
        await screenshot(page, `${r.role}-phone`);

        for (const path of r.refused) {
          const res = await page.goto(path);
          assert.equal(res.status(), 403, `GET ${path} as ${r.role}`);
          assert.equal((await page.locator('h1').innerText()).trim(), 'Not allowed', `heading of ${path}`);
        }

        await page.goto(r.landing);
        assert.equal(pathOf(page), r.landing, 'still signed in after the refusals');
        // The refused pages answer 403 on purpose (logged as a failed resource).
        const unexpected = problems.filter((p) => !/403/.test(p));
        assert.deepEqual(unexpected, [], `console errors or missing assets as ${r.role}`);
        await signOut(page);

        // The session is gone: the landing page now asks to sign in.
        await page.goto(r.landing);
        assert.equal(new URL(page.url()).pathname, '/login', `${r.landing} after sign-out`);
      } finally {
        await context.close();
      }
    });
  }
});
