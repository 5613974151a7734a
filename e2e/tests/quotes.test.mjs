// Quotes, end to end in the demo: a buyer turns their cart into a request for quote on a phone;
// the account's rep prices it past the discount threshold and sends it; the sales manager signs it
// off from their queue; the buyer accepts one of its two lines and gets an order at the quoted
// price. Screenshots at phone and desktop width.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DESKTOP, MOBILE, PHONE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot, signIn,
} from './helpers.mjs';

const BUYER = 'buyer@lakesidefamilycl.example';
const REP = 'rosa.martinez@meridian-supply.example';
const SALES_MANAGER = 'morgan.reyes@meridian-supply.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** Two SKUs the buyer can order in any quantity (no quantity rule), from the catalog. */
async function plainSkus(page) {
  await page.goto('/portal/catalog');
  const found = [];
  for (let n = 1; n <= 8 && found.length < 2; n++) {
    const rows = await page.locator('table.catalog form.add-row').evaluateAll((forms) => forms.map((f) => {
      const qty = f.querySelector('input.qty');
      return { sku: f.querySelector('input[name="sku"]').value, min: Number(qty.min), step: Number(qty.step) };
    }));
    for (const p of rows) if (p.min === 1 && p.step === 1 && found.length < 2) found.push(p.sku);
    const next = page.locator('.pagination a', { hasText: 'Next page' });
    if (found.length >= 2 || !(await next.count())) break;
    await Promise.all([page.waitForURL((u) => u.pathname === '/portal/catalog'), next.click()]);
  }
  assert.equal(found.length, 2, 'two plain products in the catalog');
  return found;
}

test('a request for quote becomes an order at the quoted price, through sign-off', async () => {
  const buyerContext = await newContext(browser, PHONE, MOBILE);
  const repContext = await newContext(browser, DESKTOP);
  const managerContext = await newContext(browser, DESKTOP);
  try {
    // The buyer fills the cart and asks for a quote, on a phone.
    const buyer = await buyerContext.newPage();
    await signIn(buyer, BUYER);
    const [first, second] = await plainSkus(buyer);
    await buyer.goto('/portal/quick-order');
    await buyer.locator('#qo-lines').fill(`${first} 120\n${second} 40`);
    await Promise.all([buyer.waitForNavigation({ waitUntil: 'load' }), buyer.getByRole('button', { name: 'Add to cart' }).click()]);
    if (pathOf(buyer) !== '/portal/cart') await buyer.goto('/portal/cart');
    for (const sku of [first, second]) {
      assert.equal(await buyer.locator(`#cart tr[data-sku="${sku}"]`).count(), 1, `${sku} is in the cart`);
    }
    await Promise.all([buyer.waitForURL('**/portal/quotes/new'), buyer.locator('#request-quote').click()]);
    assert.equal(await buyer.locator('#quote-form tr[data-sku]').count() >= 2, true, 'the cart lines are listed');
    await buyer.locator(`#target-${first}`).fill('0.01');
    await buyer.locator('#q-notes').fill('E2E: monthly volume for a year');
    await assertNoHorizontalOverflow(buyer, 'the quote request on a phone');
    await screenshot(buyer, 'quotes-request-phone');
    await Promise.all([buyer.waitForURL(/\/portal\/quotes\/Q-\d+\?notice=quote_requested$/), buyer.locator('#quote-submit').click()]);
    const number = new URL(buyer.url()).pathname.split('/').pop();
    assert.equal((await buyer.locator('#quote-status').innerText()).trim(), 'With the seller');
    await screenshot(buyer, 'quotes-requested-phone');

    // The rep finds it on their home page, prices the first line 40 % off and sends it.
    const rep = await repContext.newPage();
    await signIn(rep, REP);
    await rep.goto('/rep');
    const card = rep.locator(`#rep-quote-list li[data-quote="${number}"]`);
    assert.equal(await card.count(), 1, 'the request is among the rep\'s open quotes');
    await Promise.all([rep.waitForURL(`**/quotes/${number}`), card.locator('a').first().click()]);
    const row = rep.locator(`#price-form tr[data-sku="${first}"]`);
    assert.match(await row.innerText(), /0\.01/, 'the buyer\'s target is shown');
    const price = row.locator('input[name="price"]');
    const normal = Number((await price.inputValue()).replace(/,/g, ''));
    await price.fill((Math.round(normal * 60) / 100).toFixed(2));
    await Promise.all([rep.waitForURL(`**/quotes/${number}?notice=quote_priced`), rep.locator('#save-prices').click()]);
    assert.match(await rep.locator('#would-need-signoff').innerText(), /needs sign-off|below cost/);
    await screenshot(rep, 'quotes-priced-desktop');
    assert.equal((await rep.locator('#send-quote').innerText()).trim(), 'Send for sign-off');
    await Promise.all([rep.waitForURL(`**/quotes/${number}?notice=quote_awaiting_signoff`), rep.locator('#send-quote').click()]);
    assert.equal((await rep.locator('#quote-status').innerText()).trim(), 'Awaiting sign-off');

    // The sales manager signs it off from their queue.
    const manager = await managerContext.newPage();
    await signIn(manager, SALES_MANAGER);
    await manager.goto('/quotes/signoff');
    const queued = manager.locator(`tr[data-quote="${number}"] a[href="/quotes/${number}"]`);
    assert.equal(await queued.count(), 1, 'in the sign-off queue');
    await Promise.all([manager.waitForURL(`**/quotes/${number}`), queued.click()]);
    await screenshot(manager, 'quotes-signoff-desktop');
    await Promise.all([manager.waitForURL(`**/quotes/${number}?notice=quote_signed_off`), manager.locator('#signoff-approve').click()]);
    assert.equal((await manager.locator('#quote-status').innerText()).trim(), 'Sent');

    // The buyer accepts only the first line: an order at the quoted price.
    await buyer.goto(`/portal/quotes/${number}`);
    assert.equal((await buyer.locator('#quote-status').innerText()).trim(), 'Ready to accept');
    assert.equal(await buyer.locator('text=Cost').count(), 0, 'the seller\'s cost is not shown to buyers');
    await assertNoHorizontalOverflow(buyer, 'the quote to accept on a phone');
    await screenshot(buyer, 'quotes-ready-phone');
    // Only the first product's line is accepted.
    const boxes = buyer.locator('#quote-lines tr[data-sku] input[name="line"]');
    for (let i = 0; i < await boxes.count(); i++) {
      const box = boxes.nth(i);
      const sku = await box.evaluate((el) => el.closest('tr').dataset.sku);
      if (sku !== first) await box.uncheck();
    }
    const po = buyer.locator('#acc-po');
    await po.fill(`E2E-QUOTE-${Date.now()}`);
    await Promise.all([buyer.waitForURL(/\/portal\/orders\/SO-\d+\?placed=1$/), buyer.locator('#accept-quote').click()]);
    const lines = buyer.locator('tr[data-sku]');
    assert.equal(await lines.count(), 1, 'one line ordered');
    assert.match(await buyer.locator('body').innerText(), new RegExp(`quote ${number}`));
    await screenshot(buyer, 'quotes-accepted-order-phone');
    await buyer.goto(`/portal/quotes/${number}`);
    assert.equal((await buyer.locator('#quote-status').innerText()).trim(), 'Accepted');
    assert.equal(await buyer.locator('#quote-order').count(), 1, 'the quote links its order');
  } finally {
    await buyerContext.close();
    await repContext.close();
    await managerContext.close();
  }
});
