// Statements and aging (issue 15 §5): the buyer's finance contact sees the aging and downloads the
// statement PDF from home; finance staff open the receivables aging and drill into an account's
// statement. Desktop and 390 px phone screenshots.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DESKTOP, PHONE, MOBILE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot, signIn } from './helpers.mjs';

const BUYER_FINANCE = 'finance@lakesidefamilycl.example';
const STAFF_FINANCE = 'fiona.walsh@meridian-supply.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function bytesOf(download) {
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  return Buffer.concat(chunks);
}

test('buyer finance sees balance and aging and downloads the statement PDF', async () => {
  const context = await newContext(browser, DESKTOP, { acceptDownloads: true });
  try {
    const page = await context.newPage();
    await signIn(page, BUYER_FINANCE);
    assert.equal(pathOf(page), '/portal');
    const nav = page.locator('nav.nav');
    assert.equal(await nav.getByRole('link', { name: 'Catalog' }).count(), 0, 'no catalog for the finance role');
    assert.equal(await nav.getByRole('link', { name: 'Cart' }).count(), 0, 'no cart');
    assert.match(await page.locator('#home-balance').innerText(), /^\$[\d,]+\.\d{2}$/);
    await screenshot(page, 'statement-buyer-finance-home');
    await Promise.all([page.waitForURL('**/portal/statement'), page.locator('#home-billing').getByRole('link', { name: 'Statement' }).click()]);
    assert.equal(await page.locator('table.aging thead th').count(), 6, 'five buckets and the total');
    assert.ok(await page.locator('#closing-balance').isVisible());
    await screenshot(page, 'statement-buyer-finance');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#statement-pdf').click()]);
    assert.match(download.suggestedFilename(), /^statement-.+\.pdf$/);
    const body = await bytesOf(download);
    assert.equal(body.subarray(0, 5).toString(), '%PDF-');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('#statement-csv').click()]);
    assert.match((await bytesOf(csv)).toString(), /Opening balance/);
    // The catalog answers 403 for this role even when typed in.
    const res = await page.goto('/portal/catalog');
    assert.equal(res.status(), 403);
  } finally {
    await context.close();
  }
});

test('the statement reads well on a phone', async () => {
  const context = await newContext(browser, PHONE, MOBILE);
  try {
    const page = await context.newPage();
    await signIn(page, BUYER_FINANCE);
    await page.goto('/portal/statement');
    assert.ok(await page.locator('#statement-pdf').isVisible());
    await assertNoHorizontalOverflow(page, 'the statement on a phone');
    await screenshot(page, 'statement-buyer-finance-phone');
  } finally {
    await context.close();
  }
});

test('finance staff open the receivables aging and drill into an account', async () => {
  for (const [viewport, extra, name] of [[DESKTOP, {}, 'desktop'], [PHONE, MOBILE, 'phone']]) {
    const context = await newContext(browser, viewport, extra);
    try {
      const page = await context.newPage();
      await signIn(page, STAFF_FINANCE);
      await page.goto('/finance');
      await Promise.all([page.waitForURL('**/finance/aging'), page.locator('#aging-link').click()]);
      const rows = page.locator('table.aging-report tbody tr');
      assert.ok((await rows.count()) > 0, 'the demo has open invoices');
      assert.ok(await page.locator('#aging-totals').isVisible());
      await assertNoHorizontalOverflow(page, `the aging on ${name}`);
      await screenshot(page, `statement-aging-${name}`);
      const account = await rows.first().locator('a').first();
      const accountName = await account.innerText();
      await Promise.all([page.waitForURL('**/accounts/*/statement'), account.click()]);
      assert.match(await page.locator('h1').innerText(), new RegExp(`Statement · ${accountName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      await screenshot(page, `statement-staff-drilldown-${name}`);
    } finally {
      await context.close();
    }
  }
});
