// The buyer's finance contact downloads an invoice PDF from home in two clicks (target: ≤ 3).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DESKTOP, PHONE, MOBILE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot, signIn } from './helpers.mjs';

const FINANCE = 'finance@lakesidefamilycl.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('buyer finance downloads an invoice PDF in two clicks from home', async () => {
  const context = await newContext(browser, DESKTOP, { acceptDownloads: true });
  try {
    const page = await context.newPage();
    await signIn(page, FINANCE);
    assert.equal(pathOf(page), '/portal');
    // Click 1: Invoices in the menu.
    await Promise.all([page.waitForURL('**/portal/invoices'), page.locator('nav.nav').getByRole('link', { name: 'Invoices' }).click()]);
    const rows = page.locator('table.invoices tbody tr');
    assert.ok((await rows.count()) > 0, 'the demo account has invoices');
    const number = await rows.first().getAttribute('data-invoice');
    await screenshot(page, 'buyer-finance-invoices');
    // Click 2: the first invoice's PDF, downloaded.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      rows.first().getByRole('link', { name: 'PDF' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `${number}.pdf`);
    const stream = await download.createReadStream();
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const body = Buffer.concat(chunks);
    assert.equal(body.subarray(0, 5).toString(), '%PDF-');
    assert.ok(body.length > 1000, `a PDF of ${body.length} bytes`);
  } finally {
    await context.close();
  }
});

test('an invoice page reads well on a phone', async () => {
  const context = await newContext(browser, PHONE, MOBILE);
  try {
    const page = await context.newPage();
    await signIn(page, FINANCE);
    await page.goto('/portal/invoices');
    const number = await page.locator('table.invoices tbody tr').first().getAttribute('data-invoice');
    await page.goto(`/portal/invoices/${number}`);
    assert.match(await page.locator('h1').innerText(), /^Invoice INV-\d+$/);
    assert.ok(await page.locator('#invoice-pdf').isVisible());
    await assertNoHorizontalOverflow(page, 'an invoice on a phone');
    await screenshot(page, 'buyer-invoice-phone');
  } finally {
    await context.close();
  }
});
