// Fewer clicks (issue 17): the journeys people repeat all day, counted. Every real click or tap on
// a page counts (a listener keeps the count across navigations, see helpers.countClicks); typing
// and pasting do not. The test types only where the page has put the focus; a field without it
// is clicked first, and that click counts too.
//
// - a returning buyer reorders their last order from home: ≤ 2 clicks (+ the PO typed);
// - a buyer pastes 40 lines with one mistyped SKU and places the order: 1 paste + ≤ 4 clicks
//   (at 1366×900 and at 390×844);
// - customer service takes a 3-line phone order from the desk: ≤ 6 clicks.
//
// Each placed order is opened and checked: its lines, quantities and subtotal.
//
// Measured by the same rule on the pages before issue 17 (main at 4448e7f): reorder 3 (Reorder,
// a click into the PO field, Place order); paste 7 (Quick order, a click into the box, Add to
// cart, the suggestion's Add, Check out, a click into the PO field, Place order); phone order 9
// (into the search, Search, Act for, Quick order, into the box, Add to cart, Check out, into the
// PO field, Place order). Now the focus waits where the typing goes (the paste box, a required
// PO field), the box is checked as it is pasted, a "did you mean" is fixed in the box with one
// click, "Add all and check out" skips the cart, and the desk's "Phone order" opens the
// account's quick order: 2, 4 and 5.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  MOBILE, PHONE, assertNoHorizontalOverflow, clicksSoFar, clickTo, countClicks, emptyCart, inStockProducts,
  launchBrowser, newContext, orderLines, pathOf, resetClicks, screenshot, signIn,
} from './helpers.mjs';

const WIDE = { width: 1366, height: 900 };
// Lakeside Family Clinic requires a PO number; its manager orders without approval.
const LAKESIDE_BUYER = 'buyer@lakesidefamilycl.example';
const LAKESIDE_MANAGER = 'manager@lakesidefamilycl.example';
const CUSTOMER_SERVICE = 'carla.nguyen@meridian-supply.example';
const PASTE_LINES = 40;
const PHONE_ORDER_LINES = 3;
const ORDER_PAGE = /^\/portal\/orders\/(SO-\d+)\?placed=1$/;

const squash = (s) => s.replace(/\s+/g, ' ').trim();
const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether the focus is in `selector` now. */
function hasFocus(page, selector) {
  return page.evaluate((sel) => document.activeElement === document.querySelector(sel), selector);
}

/**
 * Whether the focus lands in `selector` within two seconds: htmx focuses a swapped-in
 * `autofocus` element when the swap settles (20 ms after it), so right after the new content
 * appears the focus may not have moved yet.
 */
async function focusSettlesIn(page, selector) {
  return page
    .waitForFunction((sel) => document.activeElement === document.querySelector(sel), selector, { timeout: 2000 })
    .then(() => true, () => false);
}

/**
 * Types into a field as a person does: where the page put the focus, else after clicking into it
 * (counted). Returns whether a click was needed.
 */
async function typeInto(page, selector, text) {
  const focused = await hasFocus(page, selector);
  if (!focused) await page.click(selector);
  await page.keyboard.type(text);
  return !focused;
}

/**
 * Pastes `text` where the focus is (clicking into `selector` first when it is not), with the
 * clipboard and Ctrl+V as a person does; where the headless browser has no clipboard, the text
 * is inserted in one input event as a paste makes it. Returns how it was pasted.
 */
async function pasteInto(page, selector, text) {
  const focused = await hasFocus(page, selector);
  if (!focused) await page.click(selector);
  const copied = await page.evaluate(async (t) => {
    try {
      await navigator.clipboard.writeText(t);
      return (await navigator.clipboard.readText()) === t;
    } catch {
      return false;
    }
  }, text);
  let via = 'the clipboard (Ctrl+V)';
  if (copied) {
    await page.keyboard.press('ControlOrMeta+V');
  }
  // The box holds the text once (a clipboard that did not paste falls back to one insertion).
  if ((await page.inputValue(selector)) !== text) {
    via = 'one text insertion (no clipboard in this browser)';
    await page.fill(selector, '');
    await page.keyboard.insertText(text);
  }
  assert.equal((await page.inputValue(selector)).replace(/\r\n/g, '\n'), text, 'the box holds the pasted text');
  return via;
}

/** The placed order's page, checked: its number, lines and subtotal. */
async function assertPlaced(page, what, expectedLines, expectedSubtotal) {
  const m = pathOf(page).match(ORDER_PAGE);
  assert.ok(m, `${what}: lands on the new order's page (${pathOf(page)})`);
  assert.match(squash(await page.locator('#placed-banner').innerText()), new RegExp(`^Thank you — order ${m[1]} is placed\\.`));
  assert.equal((await page.locator('#order-status').innerText()).trim(), 'Placed', `${what}: status`);
  assert.deepEqual(await orderLines(page), expectedLines, `${what}: the order has the lines and quantities asked for`);
  if (expectedSubtotal) {
    assert.equal((await page.locator('#order-subtotal').innerText()).trim(), expectedSubtotal, `${what}: the subtotal checkout showed`);
  }
  return m[1];
}

/** The checkout's subtotal as shown in its action bar ("$1,234.56"). */
async function checkoutTotal(page) {
  return (await page.locator('#checkout-total').innerText()).trim();
}

describe('fewer clicks', () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  test('a returning buyer reorders their last order from home in two clicks (+ the PO typed)', async (t) => {
    const context = await newContext(browser, WIDE);
    await countClicks(context);
    try {
      const page = await context.newPage();
      await signIn(page, LAKESIDE_BUYER);
      assert.equal(pathOf(page), '/portal');
      await resetClicks(page);
      await screenshot(page, 'clicks-reorder-1-home');

      // Click 1: Reorder on the most recent order.
      const latest = page.locator('#recent-orders tr[data-order]').first();
      const original = await latest.getAttribute('data-order');
      await clickTo(page, latest.locator('a.reorder'), (u) => u.pathname === `/portal/reorder/order/${original}`);
      const expected = new Map(await page.locator('form#reorder tr[data-sku]').evaluateAll((trs) => trs
        .filter((tr) => tr.dataset.kind !== 'blocked')
        .map((tr) => [tr.dataset.sku, Number.parseInt(tr.querySelector('td.num').textContent.trim(), 10)])));
      assert.ok(expected.size > 0, 'the review has orderable lines');
      // Lakeside requires a PO number: the review puts the focus in its field.
      if (await page.locator('#po_number').count()) {
        assert.ok(await hasFocus(page, '#po_number'), 'the focus is in the PO field');
        await typeInto(page, '#po_number', `CLICKS-REORDER-${Date.now()}`);
      }
      await screenshot(page, 'clicks-reorder-2-review');

      // Click 2: Place order.
      await clickTo(page, page.locator('#place-order'), (u) => ORDER_PAGE.test(u.pathname + u.search));
      const clicks = await clicksSoFar(page);
      t.diagnostic(`reorder from home: ${clicks} clicks`);
      assert.ok(clicks <= 2, `reorder from home: ${clicks} clicks (at most 2)`);
      const number = await assertPlaced(page, 'reorder', expected);
      assert.notEqual(number, original, 'a new order');
      await screenshot(page, 'clicks-reorder-3-placed');
    } finally {
      await context.close();
    }
  });

  for (const [size, viewport, options] of [['desktop', WIDE, {}], ['phone', PHONE, MOBILE]]) {
    test(`${PASTE_LINES} pasted lines with one typo become a placed order in 1 paste + 4 clicks (${size})`, async (t) => {
      const context = await newContext(browser, viewport, options);
      await countClicks(context);
      await context.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => {});
      try {
        const page = await context.newPage();
        await signIn(page, LAKESIDE_MANAGER);
        await emptyCart(page);
        const products = await inStockProducts(page, PASTE_LINES);
        // The typo: one stray key at the end of a real SKU. The lowest SKU keeps it among the
        // candidates "did you mean" compares (the first SKUs of its first characters).
        const meant = [...products].sort((a, b) => a.sku.localeCompare(b.sku))[0];
        const typo = `${meant.sku}Q`;
        const pasted = products.map((p) => `${p === meant ? typo : p.sku}\t${p.qty}`).join('\n');
        const expected = new Map(products.map((p) => [p.sku, p.qty]));

        await page.goto('/portal');
        await resetClicks(page);
        await screenshot(page, `clicks-paste-1-home-${size}`);

        // Click 1: Quick order, from the home page (no menu to open on a phone).
        await clickTo(page, page.locator('#home-lists').getByRole('link', { name: 'Quick order' }),
          (u) => u.pathname === '/portal/quick-order');
        assert.ok(await hasFocus(page, '#qo-lines'), 'the paste box has the focus');

        // The paste: the lines are checked as they land in the box; nothing is added yet.
        t.diagnostic(`pasted with ${await pasteInto(page, '#qo-lines', pasted)}`);
        const summary = page.locator('#qo-check-summary');
        await page.waitForFunction(() => /ready/.test(document.querySelector('#qo-check-summary')?.textContent ?? ''));
        assert.match(squash(await summary.innerText()),
          new RegExp(`^${PASTE_LINES - 1} of ${PASTE_LINES} lines ready · \\$[\\d,]+\\.\\d{2} · 1 needs fixing$`));
        const fixes = page.locator('#qo-fixes tbody tr');
        assert.equal(await fixes.count(), 1, 'one line to fix');
        const problem = (await fixes.first().locator('td').allInnerTexts()).map(squash);
        assert.equal(problem[0], String(products.indexOf(meant) + 1), 'by its line number');
        assert.equal(problem[1], `${typo} ${meant.qty}`, 'as pasted');
        assert.match(problem[2], new RegExp(`There is no product with SKU ${escapeRegExp(typo)}\\. Did you mean ${escapeRegExp(meant.sku)}\\?`));
        if (size === 'phone') await assertNoHorizontalOverflow(page, 'quick order, checked');
        await screenshot(page, `clicks-paste-2-checked-${size}`);

        // Click 2: take the suggestion; the box is fixed in place and checked again.
        await Promise.all([
          page.waitForResponse((r) => new URL(r.url()).pathname === '/portal/quick-order/check' && r.request().postData()?.includes('fix=')),
          fixes.first().getByRole('button', { name: `Use ${meant.sku}` }).click(),
        ]);
        await page.waitForFunction((n) => document.querySelector('#qo-check-summary')?.textContent.includes(`${n} of ${n} lines ready`), PASTE_LINES);
        assert.equal(await page.locator('#qo-fixes tbody tr').count(), 0, 'nothing left to fix');
        assert.equal((await page.inputValue('#qo-lines')).split('\n')[products.indexOf(meant)], `${meant.sku}\t${meant.qty}`,
          'the box has the SKU it meant, with the quantity as pasted');
        assert.ok(await focusSettlesIn(page, '#qo-add-checkout'), 'the focus moves to "Add all and check out"');
        assert.equal(await page.locator('.page-head a.btn', { hasText: 'Cart' }).innerText(), 'Cart', 'nothing added yet');
        await screenshot(page, `clicks-paste-3-fixed-${size}`);

        // Click 3: add all and check out, past the cart.
        await clickTo(page, page.getByRole('button', { name: 'Add all and check out' }), (u) => u.pathname === '/portal/checkout');
        assert.equal(await page.locator('#checkout tbody tr').count(), PASTE_LINES, 'the checkout lists every line');
        assert.equal(await page.locator('.flash-error').count(), 0, 'nothing blocks the checkout');
        assert.equal(await page.locator('#ship_to_id option:checked').count(), 1, 'a ship-to is chosen');
        assert.ok(await hasFocus(page, '#po_number'), 'the focus is in the PO field the account requires');
        await typeInto(page, '#po_number', `CLICKS-PASTE-${size}-${Date.now()}`);
        const total = await checkoutTotal(page);
        if (size === 'phone') await assertNoHorizontalOverflow(page, 'checkout');
        await screenshot(page, `clicks-paste-4-checkout-${size}`);

        // Click 4: Place order.
        await clickTo(page, page.locator('#place-order'), (u) => ORDER_PAGE.test(u.pathname + u.search));
        const clicks = await clicksSoFar(page);
        t.diagnostic(`paste to placed order (${size}): 1 paste + ${clicks} clicks`);
        assert.ok(clicks <= 4, `paste to placed order: 1 paste + ${clicks} clicks (at most 4)`);
        await assertPlaced(page, 'pasted order', expected, total);
        await screenshot(page, `clicks-paste-5-placed-${size}`);
      } finally {
        await context.close();
      }
    });
  }

  test(`customer service takes a ${PHONE_ORDER_LINES}-line phone order from the desk in at most 6 clicks`, async (t) => {
    // The account: Lakeside (a PO required), ordered for by customer service, not its rep.
    const account = 'Lakeside Family Clinic';
    // Its products, read as its buyer sees them (not counted).
    const buyer = await newContext(browser, WIDE);
    let products;
    try {
      const page = await buyer.newPage();
      await signIn(page, LAKESIDE_BUYER);
      products = (await inStockProducts(page, PHONE_ORDER_LINES + 10)).slice(10);
    } finally {
      await buyer.close();
    }
    const expected = new Map(products.map((p) => [p.sku, p.qty]));

    const context = await newContext(browser, WIDE);
    await countClicks(context);
    try {
      const page = await context.newPage();
      await signIn(page, CUSTOMER_SERVICE);
      assert.equal(pathOf(page), '/desk', 'customer service lands on the desk');
      const agent = (await page.locator('.who a').first().innerText()).trim();
      await resetClicks(page);
      await screenshot(page, 'clicks-desk-1-desk');

      // Clicks 1–2: into the account search (the desk opens on its queue), and Search.
      await typeInto(page, '#q', 'Lakeside');
      await clickTo(page, page.locator('#desk-accounts').getByRole('button', { name: 'Search' }),
        (u) => u.pathname === '/desk' && u.searchParams.get('q') === 'Lakeside');
      await screenshot(page, 'clicks-desk-2-found');

      // Click 3: Phone order for the account: acting for it, on its quick order page.
      await clickTo(page, page.locator('#desk-accounts').getByRole('button', { name: `Phone order for ${account}` }),
        (u) => u.pathname === '/portal/quick-order');
      assert.match(squash(await page.locator('#acting-banner').innerText()), new RegExp(`^Acting for ${escapeRegExp(account)} — `));
      assert.ok(await hasFocus(page, '#qo-lines'), 'the lines box has the focus');

      // The lines as the customer reads them out: SKU, space, quantity, Enter.
      await typeInto(page, '#qo-lines', products.map((p) => `${p.sku} ${p.qty}`).join('\n'));
      await page.waitForFunction((n) => document.querySelector('#qo-check-summary')?.textContent.includes(`${n} of ${n} lines ready`),
        PHONE_ORDER_LINES);
      await screenshot(page, 'clicks-desk-3-lines');

      // Click 4: add all and check out.
      await clickTo(page, page.getByRole('button', { name: 'Add all and check out' }), (u) => u.pathname === '/portal/checkout');
      assert.equal(await page.locator('#checkout tbody tr').count(), PHONE_ORDER_LINES, 'the checkout lists the lines');
      assert.equal(await page.locator('#ship_to_id option:checked').count(), 1, 'the default ship-to is chosen');
      if (await page.locator('#po_number[required]').count()) {
        assert.ok(await hasFocus(page, '#po_number'), 'the focus is in the required PO field');
      }
      await typeInto(page, '#po_number', `PHONE-${Date.now()}`);
      const total = await checkoutTotal(page);
      await screenshot(page, 'clicks-desk-4-checkout');

      // Click 5: Place order.
      await clickTo(page, page.locator('#place-order'), (u) => ORDER_PAGE.test(u.pathname + u.search));
      const clicks = await clicksSoFar(page);
      t.diagnostic(`phone order from the desk: ${clicks} clicks`);
      assert.ok(clicks <= 6, `phone order from the desk: ${clicks} clicks (at most 6)`);
      await assertPlaced(page, 'phone order', expected, total);
      assert.match(squash(await page.locator('#placed-by').innerText()), new RegExp(`^${escapeRegExp(agent)} for ${escapeRegExp(account)} · `),
        'placed by customer service for the account');
      await screenshot(page, 'clicks-desk-5-placed');
    } finally {
      await context.close();
    }
  });
});
