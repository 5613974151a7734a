// A sales rep on a phone checks their commission: this month's earnings on their home, then last
// month's statement — totals by channel and lines as cards, nothing wider than the screen.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PHONE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot, signIn,
} from './helpers.mjs';

const REP = 'rosa.martinez@meridian-supply.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('commission statement of a rep on a 390x844 phone', async () => {
  const context = await newContext(browser, PHONE);
  try {
    const page = await context.newPage();
    await signIn(page, REP);
    assert.equal(pathOf(page), '/rep');
    assert.match(await page.locator('#rep-earned').innerText(), /^\$[0-9,]+\.[0-9]{2}$/, 'this month so far');
    assert.match(await page.locator('#rep-self-service').innerText(), /^\$[0-9,]+\.[0-9]{2}$/);

    await Promise.all([page.waitForURL('**/commissions?*'), page.locator('#rep-earnings').click()]);
    // Last month: invoiced in full by now, still open.
    await Promise.all([page.waitForURL('**/commissions?*'), page.locator('a[rel="prev"]').first().click()]);
    assert.equal(await page.locator('#commission-status').innerText(), 'Open');
    assert.match(await page.locator('#stat-earned').innerText(), /^\$[0-9,]+\.[0-9]{2}$/);
    assert.match(await page.locator('#stat-self-service').innerText(), /^\$[0-9,]+\.[0-9]{2}$/);
    assert.ok(await page.locator('#commission-channels tbody tr').count() >= 2, 'several channels');
    const lines = page.locator('table.commission-lines tbody tr');
    assert.ok(await lines.count() >= 5, 'lines of last month');
    // Tables become cards on a phone: no header row shown, each line a block.
    const display = await lines.first().evaluate((el) => getComputedStyle(el).display);
    assert.equal(display, 'grid', 'a line is a card');
    assert.equal(await page.locator('#commission-approve').count(), 0, 'reps do not approve');
    await assertNoHorizontalOverflow(page, 'the commission statement on a phone');
    await screenshot(page, 'commission-statement-phone');

    // Two months back is locked (finance closed it).
    await Promise.all([page.waitForURL('**/commissions?*'), page.locator('a[rel="prev"]').first().click()]);
    assert.equal(await page.locator('#commission-status').innerText(), 'Locked');
  } finally {
    await context.close();
  }
});
