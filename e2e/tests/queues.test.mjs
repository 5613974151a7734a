// Work queues on a 390x844 phone: a rep places an order for a customer in their book in at most
// six taps from the rep home (every click on the page is counted), by reordering a past order and
// by quick-ordering a SKU; customer service works the desk (orders that need someone, by reason);
// the staff order list sorts by account. Screenshots of the rep home and the desk at phone width.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DESKTOP, MOBILE, PHONE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot, signIn,
} from './helpers.mjs';

const REP = 'rosa.martinez@meridian-supply.example';
const DESK = 'carla.nguyen@meridian-supply.example';
// A rep-owned account the other browser tests do not order for.
const ACCOUNT = 'Harbor Industrial Services';
const MAX_TAPS = 6;

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/**
 * A phone context that counts every click the page receives (a tap on a touch screen ends in
 * one), across navigations, in sessionStorage. Typing into a field is not a tap.
 */
async function countingPhone() {
  const context = await newContext(browser, PHONE, MOBILE);
  await context.addInitScript(() => {
    document.addEventListener('click', () => {
      sessionStorage.setItem('e2e-taps', String(Number(sessionStorage.getItem('e2e-taps') || '0') + 1));
    }, true);
  });
  return context;
}

/** Taps the element (a touch tap) and waits for the page it leads to. */
function tapper(page) {
  let taps = 0;
  const tap = async (locator, to) => {
    taps += 1;
    await Promise.all([page.waitForURL(to, { waitUntil: 'load' }), locator.tap()]);
  };
  const counted = async () => {
    const onPage = Number(await page.evaluate(() => sessionStorage.getItem('e2e-taps') || '0'));
    assert.equal(onPage, taps, 'every click the page saw was a counted tap');
    return taps;
  };
  return { tap, counted };
}

async function startAtRepHome(page) {
  await page.goto('/rep');
  assert.equal(pathOf(page), '/rep');
  await page.evaluate(() => sessionStorage.setItem('e2e-taps', '0'));
}

function card(page) {
  return page.locator('.book-account', { has: page.locator('a.book-name', { hasText: ACCOUNT }) });
}

let sku;

test('rep reorders a past order for a customer in at most six taps on a phone', async () => {
  const context = await countingPhone();
  try {
    const page = await context.newPage();
    await signIn(page, REP);
    await startAtRepHome(page);
    await assertNoHorizontalOverflow(page, 'the rep home on a phone');
    for (const heading of ['Waiting on you', 'Open quotes', 'Your book']) {
      assert.equal(await page.locator('h2', { hasText: heading }).count(), 1, `section ${heading}`);
    }
    // The rep's open quotes are listed (or the section says how they get there).
    assert.equal(await page.locator('#quotes-empty, #rep-quote-list').count(), 1, 'quotes have their place');
    const account = card(page);
    assert.equal(await account.count(), 1, `${ACCOUNT} is in the rep's book`);
    assert.match(await account.locator('.book-last').innerText(), /Last order SO-\d+ · .* · (today|1 day ago|\d+ days ago)/);
    await screenshot(page, 'queues-rep-home-phone');
    await page.screenshot({ path: new URL('../screenshots/queues-rep-home-phone-top.png', import.meta.url).pathname });

    const { tap, counted } = tapper(page);
    const reorder = account.locator('[data-action="reorder"]');
    const past = (await reorder.innerText()).replace(/^Reorder /, '').trim();
    await tap(reorder, (u) => u.pathname === `/portal/reorder/order/${past}`);
    assert.match(await page.locator('#acting-banner').innerText(), new RegExp(`Acting for ${ACCOUNT}`));
    sku = await page.locator('table.reorder tbody tr:not([data-kind="blocked"])').first().getAttribute('data-sku');
    if (await page.locator('#po_number').count()) await page.fill('#po_number', 'PO-E2E-REORDER');
    await screenshot(page, 'queues-rep-reorder-phone');
    await tap(page.locator('#place-order'), (u) => /^\/portal\/orders\/SO-\d+$/.test(u.pathname));
    const taps = await counted();
    assert.ok(taps <= MAX_TAPS, `placed in ${taps} taps (at most ${MAX_TAPS})`);
    assert.equal(taps, 2);
    assert.match(await page.locator('h1').innerText(), /SO-\d+/);
    await assertNoHorizontalOverflow(page, 'the placed order on a phone');
    await screenshot(page, 'queues-rep-reorder-placed-phone');
  } finally {
    await context.close();
  }
});

test('rep quick-orders a SKU for a customer in at most six taps on a phone', async (t) => {
  if (!sku) {
    t.skip('needs a SKU from the reorder test');
    return;
  }
  const context = await countingPhone();
  try {
    const page = await context.newPage();
    await signIn(page, REP);
    await startAtRepHome(page);
    const { tap, counted } = tapper(page);
    await tap(card(page).locator('[data-action="quick-order"]'), (u) => u.pathname === '/portal/quick-order');
    await page.fill('#qo-lines', `${sku} 1`);
    await tap(page.getByRole('button', { name: 'Add to cart' }), (u) => u.pathname === '/portal/quick-order');
    await tap(page.locator('#qo-summary a', { hasText: 'Review the cart' }), (u) => u.pathname === '/portal/cart');
    await tap(page.getByRole('link', { name: 'Check out' }), (u) => u.pathname === '/portal/checkout');
    if (await page.locator('#po_number[required]').count()) await page.fill('#po_number', 'PO-E2E-QUICK');
    await tap(page.locator('#place-order'), (u) => /^\/portal\/orders\/SO-\d+$/.test(u.pathname));
    const taps = await counted();
    assert.ok(taps <= MAX_TAPS, `placed in ${taps} taps (at most ${MAX_TAPS})`);
    await assertNoHorizontalOverflow(page, 'the placed order on a phone');
  } finally {
    await context.close();
  }
});

test('customer service works the desk on a phone: orders that need someone, by reason', async () => {
  const context = await newContext(browser, PHONE, MOBILE);
  try {
    const page = await context.newPage();
    await signIn(page, DESK);
    assert.equal(pathOf(page), '/desk');
    await assertNoHorizontalOverflow(page, 'the desk on a phone');
    const rows = page.locator('table.desk tbody tr');
    const n = await rows.count();
    assert.ok(n > 0, 'the demo has orders that need someone (credit holds at least)');
    // Each row: age, order, why, account, owner; oldest first.
    const ages = [];
    for (let i = 0; i < n; i += 1) {
      const row = rows.nth(i);
      assert.ok((await row.getAttribute('data-reasons')).trim().length > 0, 'a reason on every row');
      ages.push(await row.locator('.queue-age').getAttribute('title'));
      assert.equal(await row.locator('a[href^="/accounts/"]').count(), 1, 'the account is linked');
    }
    const placed = ages.map((t) => Date.parse(t.replace(/^Placed /, '')));
    for (let i = 1; i < placed.length; i += 1) assert.ok(placed[i - 1] <= placed[i], 'oldest first');
    await screenshot(page, 'queues-desk-phone');
    await page.screenshot({ path: new URL('../screenshots/queues-desk-phone-top.png', import.meta.url).pathname });

    // Filter by a reason: every row has it.
    const hold = page.locator('.chip[data-reason="on_hold"]');
    await Promise.all([page.waitForURL('**/desk?reason=on_hold', { waitUntil: 'load' }), hold.tap()]);
    const held = page.locator('table.desk tbody tr');
    assert.ok(await held.count() > 0);
    for (const r of await held.evaluateAll((els) => els.map((e) => e.dataset.reasons))) assert.match(r, /on_hold/);
    assert.equal(await page.locator('.chip.active').getAttribute('data-reason'), 'on_hold');
  } finally {
    await context.close();
  }
});

test('the desk on a wide screen, and the staff order list sorted by account', async () => {
  const context = await newContext(browser, DESKTOP);
  try {
    const page = await context.newPage();
    await signIn(page, DESK);
    await screenshot(page, 'queues-desk-desktop');
    await page.goto('/orders');
    assert.equal(await page.locator('table.orders th', { hasText: 'Account' }).count(), 1, 'an Account column');
    await Promise.all([page.waitForURL((u) => u.searchParams.get('sort') === 'account', { waitUntil: 'load' }), page.locator('a.sort[data-sort="account"]').click()]);
    const names = (await page.locator('table.orders td.account a').allInnerTexts()).map((s) => s.trim());
    assert.ok(names.length > 1);
    const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    assert.deepEqual(names, sorted, 'accounts A→Z');
    await screenshot(page, 'queues-orders-by-account');
    // The next page keeps the sort and continues where this one ended.
    const next = page.locator('#next-page');
    if (await next.count()) {
      const last = names[names.length - 1];
      await Promise.all([page.waitForURL((u) => u.searchParams.has('after_v'), { waitUntil: 'load' }), next.click()]);
      const more = (await page.locator('table.orders td.account a').allInnerTexts()).map((s) => s.trim());
      assert.ok(more.length > 0 && more[0] >= last, 'the next page continues by account');
    }
  } finally {
    await context.close();
  }
});
