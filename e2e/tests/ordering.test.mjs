// Ordering end to end: a buyer reorders in two clicks, pastes 40 SKUs into quick order and checks
// out; a rep on a phone orders for their customer, who sees it as placed for them; customer
// service amends that order and the buyer sees the revision with its reason.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, MOBILE, PHONE, clicksSoFar, clickTo, countClicks, emptyCart, inStockProducts, launchBrowser,
  navLink, newContext, orderLines, pathOf, resetClicks, screenshot, signIn,
} from './helpers.mjs';

const ACCOUNT = 'Lakeside Family Clinic';
const BUYER = 'buyer@lakesidefamilycl.example';
const MANAGER = 'manager@lakesidefamilycl.example';
const REP = 'rosa.martinez@meridian-supply.example';
const CUSTOMER_SERVICE = 'carla.nguyen@meridian-supply.example';
const QUICK_ORDER_LINES = 40;
const UNKNOWN_SKU = 'NOPE-E2E-0000';
// How many catalog pages to read for in-stock products before giving up.

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const squash = (s) => s.replace(/\s+/g, ' ').trim();
const ORDER_PAGE = /^\/portal\/orders\/(SO-\d+)\?placed=1$/;

/** The signed-in user's display name, from the top bar. */
async function userName(page) {
  return (await page.locator('.who a').first().innerText()).trim();
}

/** The PO number field, filled in when the page has one (the demo's Lakeside requires a PO). */
async function fillPoIfAsked(page, po) {
  const field = page.locator('#po_number');
  if (await field.count()) await field.fill(po);
}

/** Asserts the page is a freshly placed order and returns its number. */
async function assertPlaced(page, what) {
  const m = pathOf(page).match(ORDER_PAGE);
  assert.ok(m, `${what}: lands on the new order's page (${pathOf(page)})`);
  const number = m[1];
  const banner = page.locator('#placed-banner');
  assert.ok(await banner.isVisible(), `${what}: the placed banner is shown`);
  assert.match(squash(await banner.innerText()), new RegExp(`^Thank you — order ${number} is placed\\.`));
  assert.equal((await page.locator('h1').innerText()).trim(), `Order ${number}`);
  assert.equal((await page.locator('#order-status').innerText()).trim(), 'Placed', `${what}: status`);
  return number;
}

describe('ordering', () => {
  let browser;
  // The order the rep places for Lakeside (test 3), amended by customer service (test 4).
  let repOrder;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  test('buyer reorders the most recent order in exactly two clicks', async () => {
    const context = await newContext(browser, DESKTOP);
    // Every real (trusted) click on any page of this tab, kept across navigations.
    await countClicks(context);
    try {
      const page = await context.newPage();
      await signIn(page, BUYER);
      assert.equal(pathOf(page), '/portal');
      const buyerName = await userName(page);
      await resetClicks(page);
      let clicks = 0;

      const recent = page.locator('#recent-orders tr[data-order]');
      assert.ok(await recent.count() > 0, 'the home page lists recent orders');
      const latest = recent.first();
      const original = await latest.getAttribute('data-order');
      assert.match(original, /^SO-\d+$/);

      // Click 1: Reorder on the most recent order opens the review with today's prices.
      clicks++;
      await clickTo(page, latest.locator('a.reorder'), (u) => u.pathname === `/portal/reorder/order/${original}`);
      assert.equal((await page.locator('h1').innerText()).trim(), `Reorder order ${original}`);
      const expected = new Map(await page.locator('form#reorder tr[data-sku]').evaluateAll((trs) => trs
        .filter((tr) => tr.dataset.kind !== 'blocked')
        .map((tr) => [tr.dataset.sku, Number.parseInt(tr.querySelector('td.num').textContent.trim(), 10)])));
      assert.ok(expected.size > 0, 'the review has orderable lines');
      // Lakeside requires a PO number: typing it is not a click.
      await fillPoIfAsked(page, `E2E-REORDER-${Date.now()}`);
      await screenshot(page, 'ordering-reorder-review');

      // Click 2: Place order.
      clicks++;
      await clickTo(page, page.locator('#place-order'), (u) => ORDER_PAGE.test(u.pathname + u.search));

      const counted = await clicksSoFar(page);
      assert.equal(clicks, 2, 'clicks made by the test after sign-in');
      assert.equal(counted, 2, 'clicks the pages received after sign-in');

      const number = await assertPlaced(page, 'reorder');
      assert.notEqual(number, original, 'the reorder is a new order');
      assert.deepEqual(await orderLines(page), expected, 'the new order has the reviewed lines and quantities');
      assert.match(squash(await page.locator('#placed-by').innerText()), new RegExp(`^${escapeRegExp(buyerName)} · `),
        'placed by the buyer themself');
      await screenshot(page, 'ordering-reorder-placed');

      // Home now shows the new order first.
      await page.goto('/portal');
      assert.equal(await page.locator('#recent-orders tr[data-order]').first().getAttribute('data-order'), number);
    } finally {
      await context.close();
    }
  });

  test(`buyer pastes ${QUICK_ORDER_LINES} SKUs into quick order and places the order`, async () => {
    const context = await newContext(browser, DESKTOP);
    try {
      const page = await context.newPage();
      await signIn(page, MANAGER);
      await emptyCart(page);
      const products = await inStockProducts(page, QUICK_ORDER_LINES);

      await clickTo(page, page.locator('nav.nav').getByRole('link', { name: 'Quick order' }),
        (u) => u.pathname === '/portal/quick-order');
      const unknownLine = `${UNKNOWN_SKU}\t3`;
      const pasted = [
        ...products.slice(0, 20).map((p) => `${p.sku}\t${p.qty}`),
        unknownLine,
        ...products.slice(20).map((p) => `${p.sku}\t${p.qty}`),
      ].join('\n');
      await page.fill('#qo-lines', pasted);
      await page.locator('form', { has: page.locator('#qo-lines') }).getByRole('button', { name: 'Add to cart' }).click();
      await page.locator('#qo-summary').waitFor();
      await page.waitForLoadState('load');

      assert.equal(squash(await page.locator('#qo-summary').innerText()),
        `${QUICK_ORDER_LINES} lines added to your cart; 1 needs fixing (kept in the box below). Review the cart or Check out`);
      const problems = page.locator('#qo-problems tbody tr');
      assert.equal(await problems.count(), 1, 'one line reported');
      const problem = (await problems.first().locator('td').allInnerTexts()).map((t) => t.trim());
      assert.equal(problem[0], '21', 'the bad line is reported by its line number');
      assert.equal(squash(problem[1]), `${UNKNOWN_SKU} 3`, 'the bad line as pasted');
      assert.match(problem[2], new RegExp(escapeRegExp(UNKNOWN_SKU)), `the reason names the SKU: "${problem[2]}"`);
      assert.equal((await page.inputValue('#qo-lines')).trim(), unknownLine, 'only the bad line stays in the box');
      await screenshot(page, 'ordering-quick-order');

      await clickTo(page, page.locator('#qo-summary a', { hasText: 'Review the cart' }), (u) => u.pathname === '/portal/cart');
      const cartRows = page.locator('#cart tbody tr[data-sku]');
      assert.equal(await cartRows.count(), QUICK_ORDER_LINES, 'the cart has every pasted line');
      assert.match(squash(await page.locator('#cart tfoot').textContent()), new RegExp(`^Subtotal \\(${QUICK_ORDER_LINES} lines\\)`));

      await clickTo(page, page.locator('#cart a.btn', { hasText: 'Check out' }), (u) => u.pathname === '/portal/checkout');
      assert.equal(await page.locator('#checkout tbody tr').count(), QUICK_ORDER_LINES, 'the checkout summary lists every line');
      assert.equal(await page.locator('.flash-error').count(), 0, 'nothing blocks the checkout');
      assert.ok(await page.locator('#ship_to_id option:checked').count() === 1, 'a ship-to is chosen');
      await fillPoIfAsked(page, `E2E-QO-${Date.now()}`);
      await screenshot(page, 'ordering-checkout');
      await clickTo(page, page.locator('#place-order'), (u) => ORDER_PAGE.test(u.pathname + u.search));

      await assertPlaced(page, 'quick order');
      assert.equal(await page.locator('table.order-lines tbody tr').count(), QUICK_ORDER_LINES, 'the order lists 40 lines');
      assert.deepEqual(await orderLines(page), new Map(products.map((p) => [p.sku, p.qty])),
        'the order has the pasted SKUs and quantities');
      await screenshot(page, 'ordering-quick-order-placed');

      // Placing emptied the cart.
      await page.goto('/portal/cart');
      assert.equal(await page.locator('#cart tbody tr[data-sku]').count(), 0, 'the cart is empty after placing');
    } finally {
      await context.close();
    }
  });

  test('rep on a phone orders for their account; the buyer sees it placed for them', async () => {
    const context = await newContext(browser, PHONE, MOBILE);
    let repName;
    let product;
    try {
      const page = await context.newPage();
      await signIn(page, REP);
      assert.equal(pathOf(page), '/rep');
      repName = await userName(page);

      const account = page.locator('.book-account a.book-name', { hasText: ACCOUNT }).first();
      assert.equal(await account.count(), 1, `${ACCOUNT} is in the rep's book`);
      await clickTo(page, account, (u) => /^\/accounts\/[^/]+$/.test(u.pathname));
      const accountPath = new URL(page.url()).pathname;
      assert.match(await page.locator('h1').innerText(), new RegExp(`^${escapeRegExp(ACCOUNT)}`));

      await clickTo(page, page.locator('#act-for'), (u) => u.pathname === '/portal/catalog');
      const banner = page.locator('#acting-banner');
      assert.ok(await banner.isVisible(), 'the acting banner is shown');
      assert.match(squash(await banner.innerText()), new RegExp(`^Acting for ${escapeRegExp(ACCOUNT)} — `));

      // Start from an empty cart (the rep's cart for this account), then add one product.
      await emptyCart(page);
      assert.ok(await banner.isVisible(), 'the banner on the cart');
      [product] = await inStockProducts(page, 1);
      const row = page.locator('table.catalog tbody tr', { has: page.locator(`input[name="sku"][value="${product.sku}"]`) });
      await row.getByRole('button', { name: 'Add' }).click();
      const status = row.locator('.add-status');
      await status.locator('.ok').waitFor();
      assert.match(squash(await status.innerText()), /^✓ .*· Cart \(1\)$/, 'the row confirms the add');
      await screenshot(page, 'ordering-acting-catalog-phone');

      await clickTo(page, status.getByRole('link', { name: 'Cart (1)' }), (u) => u.pathname === '/portal/cart');
      assert.equal(await page.locator('#cart tbody tr[data-sku]').count(), 1);
      await clickTo(page, page.locator('#cart a.btn', { hasText: 'Check out' }), (u) => u.pathname === '/portal/checkout');

      assert.ok(await page.locator('#acting-banner').isVisible(), 'the banner on the checkout');
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(scrollWidth <= PHONE.width + 1, `the checkout is ${scrollWidth}px wide on a ${PHONE.width}px phone`);
      await fillPoIfAsked(page, `E2E-REP-${Date.now()}`);
      await screenshot(page, 'ordering-acting-checkout-phone');
      await clickTo(page, page.locator('#place-order'), (u) => ORDER_PAGE.test(u.pathname + u.search));

      const number = await assertPlaced(page, 'rep order');
      assert.ok(await page.locator('#acting-banner').isVisible(), 'the banner on the placed order');
      assert.deepEqual(await orderLines(page), new Map([[product.sku, product.qty]]));
      // The rep is told whom it was for (not "for you": that is the customer's wording).
      assert.equal(squash(await page.locator('#placed-by').innerText()), `${repName} for ${ACCOUNT} · Sales rep`,
        'placed by the rep for the customer');
      await screenshot(page, 'ordering-acting-placed-phone');
      repOrder = { number, sku: product.sku, qty: product.qty, repName };

      await clickTo(page, await navLink(page, 'Their orders'),
        (u) => u.pathname === '/portal/orders');
      const listed = page.locator(`tr[data-order="${number}"]`);
      assert.equal(await listed.count(), 1, 'the order is in the account\'s history');
      assert.equal(squash(await listed.locator('td').nth(3).innerText()), `${repName} (Sales rep)`, 'the rep\'s view of who placed it');

      // Exit acting mode: back to the account page, no banner.
      await clickTo(page, page.locator('#acting-banner').getByRole('button', { name: 'Exit' }),
        (u) => u.pathname === accountPath);
      assert.equal(await page.locator('#acting-banner').count(), 0, 'no banner after exit');
    } finally {
      await context.close();
    }

    const buyer = await newContext(browser, DESKTOP);
    try {
      const page = await buyer.newPage();
      await signIn(page, BUYER);
      await clickTo(page, page.locator('nav.nav').getByRole('link', { name: 'Orders' }), (u) => u.pathname === '/portal/orders');
      const row = page.locator(`tr[data-order="${repOrder.number}"]`);
      assert.equal(await row.count(), 1, 'the rep\'s order is in the buyer\'s history');
      assert.equal(squash(await row.locator('td').nth(3).innerText()), `${repName} (Sales rep, for you)`,
        'the row names the rep and says it was for you');
      await screenshot(page, 'ordering-buyer-history');

      await clickTo(page, row.locator(`a[href="/portal/orders/${repOrder.number}"]`),
        (u) => u.pathname === `/portal/orders/${repOrder.number}`);
      assert.equal(squash(await page.locator('#placed-by').innerText()), `${repName} for you · Sales rep`);
    } finally {
      await buyer.close();
    }
  });

  test('customer service amends the order; the buyer sees revision 2 with the reason', async (t) => {
    if (!repOrder) {
      t.skip('needs the rep order from the previous test');
      return;
    }
    const newQty = repOrder.qty * 2;
    const reason = `Customer called to double ${repOrder.sku} (e2e ${Date.now()})`;
    const context = await newContext(browser, DESKTOP);
    try {
      const page = await context.newPage();
      await signIn(page, CUSTOMER_SERVICE);
      await clickTo(page, page.locator('nav.nav').getByRole('link', { name: 'Orders' }), (u) => u.pathname === '/orders');
      await page.fill('#f-q', repOrder.number);
      await clickTo(page, page.locator('form.filters').getByRole('button', { name: 'Filter' }),
        (u) => u.pathname === '/orders' && u.searchParams.get('q') === repOrder.number);
      await clickTo(page, page.locator(`tr[data-order="${repOrder.number}"] a[href="/orders/${repOrder.number}"]`),
        (u) => u.pathname === `/orders/${repOrder.number}`);
      assert.equal((await page.locator('h1').innerText()).trim(), `Order ${repOrder.number}`);

      const amend = page.locator('section#amend');
      assert.ok(await amend.isVisible(), 'customer service can amend the open order');
      const qty = amend.locator(`input[name="qty_${repOrder.sku}"]`);
      assert.equal(await qty.inputValue(), String(repOrder.qty));
      await qty.fill(String(newQty));
      await page.fill('#am-reason', reason);
      await clickTo(page, amend.getByRole('button', { name: 'Save amendment' }),
        (u) => u.pathname === `/orders/${repOrder.number}` && u.searchParams.get('notice') === 'amended');
      assert.match(await page.locator('.flash-ok').innerText(), /Order amended/);
      assert.equal((await orderLines(page)).get(repOrder.sku), newQty, 'the new quantity');
      await screenshot(page, 'ordering-amended-staff');
    } finally {
      await context.close();
    }

    const buyer = await newContext(browser, DESKTOP);
    try {
      const page = await buyer.newPage();
      await signIn(page, BUYER);
      await page.goto(`/portal/orders/${repOrder.number}`);
      const revisions = page.locator('#revisions');
      assert.ok(await revisions.isVisible(), 'the buyer sees the revisions');
      const text = squash(await revisions.innerText());
      assert.ok(text.includes('Revision 2'), `"Revision 2" in "${text}"`);
      assert.ok(text.includes(`Reason: ${reason}`), `the reason in "${text}"`);
      assert.ok(await page.locator('.page-head .badge', { hasText: /^Revision 2$/ }).count() === 1, 'the revision badge');
      assert.equal((await orderLines(page)).get(repOrder.sku), newQty, 'the buyer sees the new quantity');
      await screenshot(page, 'ordering-amended-buyer');
    } finally {
      await buyer.close();
    }
  });
});
