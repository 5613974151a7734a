// Routing on a phone: the rep opens a request a rep-led account sent them from the rep home and
// completes it — two taps, counted — and the admin previews what routing does to an order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DESKTOP, MOBILE, PHONE, assertNoHorizontalOverflow, clicksSoFar, countClicks, launchBrowser, newContext, pathOf,
  resetClicks, screenshot, signIn,
} from './helpers.mjs';

const REP = 'rosa.martinez@meridian-supply.example';
const ADMIN = 'admin@meridian-supply.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('the rep completes an escalated request from the rep home in two taps on a 390x844 phone', async () => {
  const context = await newContext(browser, PHONE, MOBILE);
  await countClicks(context);
  try {
    const page = await context.newPage();
    await signIn(page, REP);
    assert.equal(pathOf(page), '/rep');
    await resetClicks(page);
    const card = page.locator('#rep-queue li.queue-item[data-reasons~="escalated"]').first();
    assert.ok(await card.count(), 'the demo leaves requests of a rep-led account waiting for its rep');
    const number = await card.getAttribute('data-order');
    await assertNoHorizontalOverflow(page, 'rep home');
    await screenshot(page, 'escalation-rep-home-phone');

    // Tap 1: open the request.
    await Promise.all([page.waitForURL(`**/orders/${number}`), card.getByRole('link', { name: 'Open order' }).click()]);
    assert.equal((await page.locator('#order-status').innerText()).trim(), 'With your rep');
    assert.match(await page.locator('#escalation').innerText(), /places the orders of this account/);
    await assertNoHorizontalOverflow(page, 'escalated order');
    await screenshot(page, 'escalation-order-phone');

    // Tap 2: complete it.
    await Promise.all([
      page.waitForURL(new RegExp(`/orders/${number}\\?notice=completed`)),
      page.locator('#complete-form').getByRole('button', { name: 'Complete order' }).click(),
    ]);
    assert.equal(await clicksSoFar(page), 2, 'two taps from the rep home');
    assert.match((await page.locator('#order-status').innerText()).trim(), /^(Placed|On hold)$/);
    assert.match(await page.locator('.timeline').innerText(), /Completed by Rosa Martinez/);
    await screenshot(page, 'escalation-completed-phone');
    await page.goto('/rep');
    assert.equal(await page.locator(`#rep-queue li.queue-item[data-order="${number}"]`).count(), 0, 'out of the queue');
  } finally {
    await context.close();
  }
});

test('the admin previews what routing does to an order', async () => {
  const context = await newContext(browser, DESKTOP);
  try {
    const page = await context.newPage();
    await signIn(page, ADMIN);
    await page.goto('/admin/routing');
    const rules = await page.locator('#routing-rules').innerText();
    assert.match(rules, /Orders over \$25,000\.00/);
    assert.match(rules, /A line of more than 1000 units/);
    const sku = (await page.locator('#consult-products small.mono').first().innerText()).trim();
    // A hybrid account: the first one in the list is the demo's hybrid clinic.
    await page.selectOption('#pv-account', { index: 0 });
    await page.fill('#pv-lines', `${sku} 1`);
    await page.locator('#routing-preview').getByRole('button', { name: 'Preview' }).click();
    await page.waitForSelector('#preview-outcome');
    const outcome = await page.locator('#preview-outcome').innerText();
    assert.match(outcome, /lines?, \$/);
    await screenshot(page, 'escalation-routing-preview');
  } finally {
    await context.close();
  }
});
