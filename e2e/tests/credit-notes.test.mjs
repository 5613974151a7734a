// Finance credits a returned unit: from an invoice, "Issue credit note", one unit and a reason,
// and the credit note stands as its own document (page and PDF) applied to the invoice.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DESKTOP, PHONE, MOBILE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot, signIn } from './helpers.mjs';

const FINANCE = 'fiona.walsh@meridian-supply.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('finance issues a credit note for a returned unit', async () => {
  const context = await newContext(browser, DESKTOP, { acceptDownloads: true });
  try {
    const page = await context.newPage();
    await signIn(page, FINANCE);
    await page.goto('/invoices');
    const rows = page.locator('table.invoices tbody tr').filter({ hasText: 'open' });
    assert.ok((await rows.count()) > 0, 'the demo has open invoices');
    const number = await rows.first().getAttribute('data-invoice');
    await page.goto(`/invoices/${number}`);
    const dueBefore = await page.locator('#invoice-due-amount').innerText();
    await Promise.all([page.waitForURL(`**/invoices/${number}/credit`), page.locator('#credit-invoice').click()]);
    // Too many units: named beside the line, what was typed kept.
    const qty = page.locator('#credit-form input.qty').first();
    await qty.fill('999999');
    await page.fill('#reason', 'Returned: damaged in transit');
    await page.locator('#issue-credit').click();
    await page.waitForSelector('.field-error');
    assert.match(await page.locator('.field-error').first().innerText(), /credit between 1 and \d+ units/);
    assert.equal(await page.locator('#reason').inputValue(), 'Returned: damaged in transit');
    await screenshot(page, 'finance-credit-note-error');
    await page.locator('#credit-form input.qty').first().fill('1');
    await Promise.all([page.waitForURL(/\/invoices\/CN-\d+$/), page.locator('#issue-credit').click()]);
    assert.match(await page.locator('h1').innerText(), /^Credit note CN-\d+$/);
    assert.match(await page.locator('main').innerText(), /Reason: Returned: damaged in transit/);
    assert.match(await page.locator('main').innerText(), new RegExp(`Credits invoice\\s+${number}`));
    await screenshot(page, 'finance-credit-note');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#invoice-pdf').click()]);
    assert.match(download.suggestedFilename(), /^CN-\d+\.pdf$/);
    // The invoice owes less now.
    await page.goto(`/invoices/${number}`);
    assert.notEqual(await page.locator('#invoice-due-amount').innerText(), dueBefore, 'the credit is applied');
  } finally {
    await context.close();
  }
});

test('the credit note form fits a phone', async () => {
  const context = await newContext(browser, PHONE, MOBILE);
  try {
    const page = await context.newPage();
    await signIn(page, FINANCE);
    await page.goto('/invoices');
    const number = await page.locator('table.invoices tbody tr').first().getAttribute('data-invoice');
    await page.goto(`/invoices/${number}/credit`);
    assert.equal(pathOf(page), `/invoices/${number}/credit`);
    await assertNoHorizontalOverflow(page, 'the credit note form on a phone');
    await screenshot(page, 'finance-credit-note-phone');
  } finally {
    await context.close();
  }
});
