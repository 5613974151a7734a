// Finance works its queue: an order held for credit is opened from /finance and released.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newContext, pathOf, screenshot, signIn } from './helpers.mjs';

const FINANCE = 'fiona.walsh@meridian-supply.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('finance releases an order held for credit', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await signIn(page, FINANCE);
    assert.equal(pathOf(page), '/finance');
    const held = page.locator('#held-orders tbody tr');
    const before = await held.count();
    assert.ok(before > 0, 'the demo has orders held for credit');
    const number = await held.first().getAttribute('data-order');
    await Promise.all([page.waitForURL(`**/orders/${number}`), held.first().getByRole('link', { name: number }).click()]);
    assert.match(await page.locator('#credit-hold').innerText(), /credit hold/);
    await page.fill('#cr-release', 'Payment received by wire');
    await Promise.all([
      page.waitForURL(`**/orders/${number}?notice=released`),
      page.getByRole('button', { name: 'Release order' }).click(),
    ]);
    assert.equal((await page.locator('#order-status').innerText()).trim(), 'Placed');
    assert.match(await page.locator('.timeline').first().innerText(), /Payment received by wire/);
    assert.equal(await page.locator('#credit-hold').count(), 0, 'no longer held');
    await screenshot(page, 'finance-released-order');
    await page.goto('/finance');
    assert.equal(await page.locator('#held-orders tbody tr').count(), before - 1, 'out of the queue');
    assert.equal(await page.locator(`#held-orders tr[data-order="${number}"]`).count(), 0);
  } finally {
    await context.close();
  }
});
