// Phone first (issue 17): at 390×844 every role's main pages fit the screen, the "Menu" button
// reveals every navigation item, list tables become cards that keep what a person acts on, the
// primary action of a long cart and checkout stays in view, and a refused staff form comes back
// inside the shell with its reason next to the field and the input kept.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  MOBILE, PHONE, assertNoHorizontalOverflow, clickTo, emptyCart, inStockProducts, launchBrowser, navTexts,
  newContext, screenshot, signIn,
} from './helpers.mjs';

const ROLES = [
  {
    role: 'buyer',
    email: 'manager@lakesidefamilycl.example',
    pages: ['/portal', '/portal/catalog', '/portal/quick-order', '/portal/orders', '/portal/buy-again',
      '/portal/invoices', '/portal/payments', '/portal/statement', '/portal/lists', '/portal/cart',
      '/portal/account', '/portal/users'],
  },
  { role: 'rep', email: 'rosa.martinez@meridian-supply.example', pages: ['/rep', '/orders', '/quotes', '/commissions'] },
  { role: 'customer-service', email: 'carla.nguyen@meridian-supply.example', pages: ['/desk', '/orders', '/quotes'] },
  {
    role: 'finance',
    email: 'fiona.walsh@meridian-supply.example',
    pages: ['/finance', '/invoices', '/finance/payments', '/finance/aging', '/orders'],
  },
  {
    role: 'admin',
    email: 'admin@meridian-supply.example',
    pages: ['/admin/accounts', '/admin/products', '/admin/categories', '/admin/pricing', '/admin/staff',
      '/admin/warehouses', '/desk', '/orders', '/quotes'],
  },
];

const BUYER = 'buyer@lakesidefamilycl.example';
const LONG_ORDER = 40;
const slug = (path) => path.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '-') || 'home';

/** Whether the element's box lies inside the viewport as the page is now (no scrolling). */
async function inViewport(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
      && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
  });
}

/** The label a card cell shows before its value (`td::before { content: attr(data-label) }`). */
async function cardLabel(locator) {
  return locator.evaluate((el) => getComputedStyle(el, '::before').content.replace(/^"|"$/g, ''));
}

describe('phone', () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  for (const r of ROLES) {
    test(`${r.role}: the menu reveals every item and the main pages fit a 390px phone`, async () => {
      const context = await newContext(browser, PHONE, MOBILE);
      try {
        const page = await context.newPage();
        const problems = [];
        page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
        await signIn(page, r.email);

        // The menu: collapsed behind a button that says so; open, every item is on screen.
        const toggle = page.locator('#menu-toggle');
        const nav = page.locator('#main-nav');
        assert.ok(await toggle.isVisible(), 'the Menu button is shown on a phone');
        assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
        assert.equal(await nav.isVisible(), false, 'the items wait behind the Menu button');
        const items = await navTexts(page);
        assert.ok(items.length >= 3, `${r.role} has navigation items`);
        await toggle.click();
        assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
        for (const label of items) {
          const link = nav.getByRole('link', { name: label, exact: true }).first();
          assert.ok(await link.isVisible(), `"${label}" is shown once the menu is open`);
          const box = await link.boundingBox();
          assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `"${label}" lies within the screen`);
        }
        await assertNoHorizontalOverflow(page, `${r.role}: the open menu`);
        await screenshot(page, `phone-${r.role}-menu`);
        // By keyboard: Escape closes it and gives the focus back; Enter opens it again.
        await page.keyboard.press('Escape');
        assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
        assert.equal(await page.evaluate(() => document.activeElement?.id), 'menu-toggle');
        await page.keyboard.press('Enter');
        assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
        assert.ok(await nav.isVisible(), 'Enter on the button opens the menu');
        // Following an item from the menu works.
        const target = nav.getByRole('link', { name: items[items.length - 1], exact: true }).first();
        const href = await target.getAttribute('href');
        await clickTo(page, target, (u) => u.pathname === href);
        assert.equal(await page.locator('#menu-toggle').getAttribute('aria-expanded'), 'false', 'a new page starts collapsed');

        for (const path of r.pages) {
          const res = await page.goto(path);
          assert.equal(res.status(), 200, `GET ${path} as ${r.role}`);
          await assertNoHorizontalOverflow(page, `${r.role} ${path}`);
          await screenshot(page, `phone-${r.role}-${slug(path)}`);
        }
        assert.deepEqual(problems, [], `console errors as ${r.role}`);
      } finally {
        await context.close();
      }
    });
  }

  test('buyer: order history cards keep Subtotal and Reorder', async () => {
    const context = await newContext(browser, PHONE, MOBILE);
    try {
      const page = await context.newPage();
      await signIn(page, 'manager@lakesidefamilycl.example');
      await page.goto('/portal/orders');
      const row = page.locator('table.orders tbody tr').first();
      const subtotal = row.locator('td.subtotal');
      assert.ok(await subtotal.isVisible(), 'the subtotal is shown');
      assert.match((await subtotal.innerText()).trim(), /\$[\d,]+\.\d{2}/);
      assert.equal(await cardLabel(subtotal), 'Subtotal', 'the subtotal is labelled');
      assert.ok(await row.getByRole('link', { name: 'Reorder' }).isVisible(), 'Reorder is shown');
      const box = await row.getByRole('link', { name: 'Reorder' }).boundingBox();
      assert.ok(box.x + box.width <= PHONE.width, 'Reorder lies within the screen');
      await assertNoHorizontalOverflow(page, 'order history');

      // An order's lines keep their totals.
      await clickTo(page, row.locator('td a').first(), (u) => /^\/portal\/orders\/SO-/.test(u.pathname));
      const total = page.locator('table.order-lines tbody tr').first().locator('td.line-total');
      assert.ok(await total.isVisible(), 'an order line shows its total');
      assert.equal(await cardLabel(total), 'Total');
      await assertNoHorizontalOverflow(page, 'an order');
      await screenshot(page, 'phone-buyer-order');
    } finally {
      await context.close();
    }
  });

  test(`buyer: a ${LONG_ORDER}-line cart shows availability, and Check out and Place order stay in view`, async () => {
    const context = await newContext(browser, PHONE, MOBILE);
    try {
      const page = await context.newPage();
      await signIn(page, BUYER);
      await emptyCart(page);
      const products = await inStockProducts(page, LONG_ORDER);
      await page.goto('/portal/quick-order');
      await page.fill('#qo-lines', products.map((p) => `${p.sku}\t${p.qty}`).join('\n'));
      await page.locator('form', { has: page.locator('#qo-lines') }).getByRole('button', { name: 'Add to cart' }).click();
      await page.locator('#qo-summary').waitFor();
      await page.waitForLoadState('load');

      await page.goto('/portal/cart');
      const rows = page.locator('#cart tbody tr[data-sku]');
      assert.equal(await rows.count(), LONG_ORDER);
      const availability = rows.first().locator('td[data-label="Availability"] .badge');
      assert.ok(await availability.isVisible(), 'the first line shows its availability');
      assert.equal(await cardLabel(rows.first().locator('td[data-label="Line total"]')), 'Line total', 'numbers are labelled');
      const checkOut = page.locator('#cart-checkout');
      assert.ok(await inViewport(checkOut), 'Check out is on screen at the top of a long cart');
      assert.ok(await inViewport(page.locator('#cart-actions .action-total')), 'and the subtotal beside it');
      await assertNoHorizontalOverflow(page, 'the long cart');
      await page.screenshot({ path: new URL('../screenshots/phone-buyer-cart-viewport.png', import.meta.url).pathname });
      await screenshot(page, 'phone-buyer-cart');

      await clickTo(page, checkOut, (u) => u.pathname === '/portal/checkout');
      assert.equal(await page.locator('#checkout tbody tr').count(), LONG_ORDER);
      const place = page.locator('#place-order');
      assert.ok(await inViewport(place), 'Place order is on screen without scrolling');
      assert.ok(await inViewport(page.locator('#checkout-total')), 'and the total beside it');
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight / 2));
      assert.ok(await inViewport(place), 'Place order stays on screen half way down');
      await page.evaluate(() => window.scrollTo(0, 0));
      await assertNoHorizontalOverflow(page, 'the long checkout');
      await page.screenshot({ path: new URL('../screenshots/phone-buyer-checkout-viewport.png', import.meta.url).pathname });
      await screenshot(page, 'phone-buyer-checkout');
      await emptyCart(page);
    } finally {
      await context.close();
    }
  });

  test('buyer: quick order problems keep "Why" readable', async () => {
    const context = await newContext(browser, PHONE, MOBILE);
    try {
      const page = await context.newPage();
      await signIn(page, BUYER);
      await page.goto('/portal/quick-order');
      await page.fill('#qo-lines', 'NOPE-PHONE-0001 3\nNOPE-PHONE-0002 ten');
      await page.locator('form', { has: page.locator('#qo-lines') }).getByRole('button', { name: 'Add to cart' }).click();
      await page.locator('#qo-problems').waitFor();
      const why = page.locator('#qo-problems tbody tr').first().locator('td.why');
      const box = await why.boundingBox();
      assert.ok(box.width > PHONE.width / 2, `"Why" gets the width of the card (${Math.round(box.width)}px)`);
      assert.equal(await cardLabel(why), 'Why');
      await assertNoHorizontalOverflow(page, 'quick order problems');
      await screenshot(page, 'phone-buyer-quick-order-problems');
    } finally {
      await context.close();
    }
  });

  test('admin: a bad stock quantity comes back on the same page, in the shell, with the input kept', async () => {
    const context = await newContext(browser, PHONE, MOBILE);
    try {
      const page = await context.newPage();
      await signIn(page, 'admin@meridian-supply.example');
      await page.goto('/admin/products');
      const first = page.locator('table.products tbody tr a.product-name').first();
      await clickTo(page, first, (u) => /^\/admin\/products\/[^/]+$/.test(u.pathname));
      const productPath = new URL(page.url()).pathname;
      await page.fill('#delta', 'ten');
      await page.fill('#reason', 'Cycle count');
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/stock')),
        page.getByRole('button', { name: 'Adjust stock' }).click(),
      ]);
      await page.waitForLoadState('load');
      assert.equal(res.status(), 422, 'refused as bad input');
      assert.ok(await page.locator('#menu-toggle').isVisible(), 'the page keeps the shell and its menu');
      assert.ok((await page.locator('h1').innerText()).length > 0);
      assert.match(await page.locator('#delta-error').innerText(), /“ten” is not a whole number/, 'the reason is next to the field');
      assert.equal(await page.locator('#delta').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.inputValue('#delta'), 'ten', 'the typed value is kept');
      assert.equal(await page.inputValue('#reason'), 'Cycle count', 'the other fields too');
      await assertNoHorizontalOverflow(page, 'the refused stock form');
      await screenshot(page, 'phone-admin-stock-refused');

      // Fixed, it saves and goes back to the product.
      await page.fill('#delta', '1');
      await clickTo(page, page.getByRole('button', { name: 'Adjust stock' }), (u) => u.pathname === productPath);
    } finally {
      await context.close();
    }
  });
});
