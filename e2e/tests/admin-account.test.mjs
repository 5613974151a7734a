// An administrator creates a customer account through the form and lands on its page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DESKTOP, PHONE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot,
  signIn, uniqueSuffix,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('admin creates a new account and lands on its page', async () => {
  const context = await newContext(browser, DESKTOP);
  try {
    const page = await context.newPage();
    await signIn(page, 'admin@meridian-supply.example');
    assert.equal(pathOf(page), '/admin/accounts');

    await Promise.all([
      page.waitForURL('**/admin/accounts/new'),
      page.getByRole('link', { name: 'New account' }).click(),
    ]);
    assert.equal((await page.locator('h1').innerText()).trim(), 'New account');
    await screenshot(page, 'admin-new-account-desktop');
    await page.setViewportSize(PHONE);
    await assertNoHorizontalOverflow(page, 'the new-account form on a phone');
    await screenshot(page, 'admin-new-account-phone');
    await page.setViewportSize(DESKTOP);

    const name = `Harbor Dental Group ${uniqueSuffix()}`;
    await page.fill('#name', name);
    await page.selectOption('#status', 'active');
    await page.selectOption('#ownership_mode', 'rep_led');
    // The first real option (the empty one means "no rep").
    const rep = page.locator('#owner_rep_id option:not([value=""])').first();
    const repId = await rep.getAttribute('value');
    const repName = (await rep.innerText()).trim();
    assert.ok(repId, 'there is at least one sales rep to pick');
    await page.selectOption('#owner_rep_id', repId);
    await page.fill('#terms', 'net30');
    await page.fill('#credit_limit', '12500');
    await page.fill('#bill_line1', '400 Harbor Blvd');
    await page.fill('#bill_city', 'Portland');
    await page.fill('#bill_region', 'OR');
    await page.fill('#bill_postal_code', '97201');
    await page.fill('#bill_country', 'US');
    await page.check('input[name="ship_same_as_billing"]');

    await Promise.all([
      page.waitForURL(/\/accounts\/[^/]+\?notice=saved$/),
      page.getByRole('button', { name: 'Create account' }).click(),
    ]);
    assert.match(await page.locator('h1').innerText(), new RegExp(`^${name}`));
    assert.equal((await page.locator('.flash-ok').innerText()).trim(), 'Saved.');
    const details = await page.locator('dl.kv').first().innerText();
    assert.match(details, /Rep-led/);
    assert.match(details, new RegExp(repName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(details, /Net 30 days/);
    assert.match(details, /12,500/);
    assert.match(details, /400 Harbor Blvd/);
    await screenshot(page, 'admin-account-created-desktop');

    // It is listed among the accounts.
    await page.goto('/admin/accounts?q=' + encodeURIComponent(name));
    assert.equal(await page.locator('table.table tbody tr a', { hasText: name }).count(), 1);
  } finally {
    await context.close();
  }
});
