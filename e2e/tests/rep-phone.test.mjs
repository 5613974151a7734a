// A sales rep on a phone opens one of their accounts; the page fits the screen.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PHONE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot, signIn,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('rep opens an account from /rep on a 390x844 phone without horizontal overflow', async () => {
  const context = await newContext(browser, PHONE);
  try {
    const page = await context.newPage();
    await signIn(page, 'rosa.martinez@meridian-supply.example');
    assert.equal(pathOf(page), '/rep');
    await assertNoHorizontalOverflow(page, 'the rep book on a phone');

    const first = page.locator('.book-account a.book-name').first();
    const name = (await first.innerText()).trim();
    assert.ok(name.length > 0, 'the rep has at least one account');
    await Promise.all([page.waitForURL('**/accounts/*'), first.click()]);

    assert.match(await page.locator('h1').innerText(), new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    for (const heading of ['Account', 'Ship-to locations', 'Users', 'History']) {
      assert.equal(await page.locator('h2', { hasText: new RegExp(`^${heading}$`) }).count(), 1, `section ${heading}`);
    }
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `account page is ${scrollWidth}px wide on a ${PHONE.width}px phone`);
    await assertNoHorizontalOverflow(page, 'the account page on a phone');
    await screenshot(page, 'rep-account-phone');
  } finally {
    await context.close();
  }
});
