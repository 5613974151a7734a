// Licences for regulated products in the demo: the desk orders a controlled reagent for Metro
// Dialysis Partners, whose DEA registration has expired, and is told why (desktop and phone);
// an admin records a licence, uploads its document and verifies it; staff see the licences that
// need attention and the badge for those expiring within 30 days.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, MOBILE, PHONE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot, signIn,
  uniqueSuffix,
} from './helpers.mjs';

const DESK = 'carla.nguyen@meridian-supply.example';
const ADMIN = 'admin@meridian-supply.example';
const EXPIRED = 'Metro Dialysis Partners';
const LICENSED = 'St. Agnes Surgical Center';
const squash = (s) => s.replace(/\s+/g, ' ').trim();

async function openAccount(page, list, name) {
  await page.goto(`${list}?q=${encodeURIComponent(name)}`);
  const link = page.locator('table.table tbody tr a[href^="/accounts/"]', { hasText: name }).first();
  assert.equal(await link.count(), 1, `${name} is listed`);
  await Promise.all([page.waitForURL((u) => /^\/accounts\/[^/]+$/.test(u.pathname)), link.click()]);
}

/** A controlled reagent's SKU, from the catalog as the account sees it. */
async function reagentSku(page) {
  await page.goto('/portal/catalog?q=Reagent');
  const sku = await page.locator('table.catalog tbody tr input[name="sku"]').first().getAttribute('value');
  assert.ok(sku, 'the account sees controlled reagents');
  return sku;
}

describe('licences', () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  for (const [label, viewport, options] of [['desktop', DESKTOP, {}], ['phone', PHONE, MOBILE]]) {
    test(`the desk is refused a controlled reagent for the account whose licence expired (${label})`, async () => {
      const context = await newContext(browser, viewport, options);
      try {
        const page = await context.newPage();
        await signIn(page, DESK);
        await openAccount(page, '/desk', EXPIRED);
        const section = page.locator('#licences');
        const dea = section.locator('tr', { hasText: 'DEA registration' });
        assert.equal(squash(await dea.locator('.badge').innerText()), 'Expired');
        await section.scrollIntoViewIfNeeded();
        await screenshot(page, `licences-expired-account-${label}`);
        await Promise.all([page.waitForURL((u) => u.pathname === '/portal/catalog'), page.locator('#act-for').click()]);
        const sku = await reagentSku(page);

        await page.goto('/portal/quick-order');
        await page.fill('#qo-lines', `${sku} 1`);
        await Promise.all([
          page.waitForLoadState('load'),
          page.getByRole('button', { name: 'Add to cart' }).click(),
        ]);
        const text = squash(await page.locator('main').innerText());
        const reason = new RegExp(
          `${sku}: Controlled substances need a verified DEA registration for shipping to IL; licence \\S+ expired on \\d{1,2} \\w{3} \\d{4}\\.`,
        );
        assert.match(text, reason);
        assert.doesNotMatch(text, /1 line added/);
        if (label === 'phone') await assertNoHorizontalOverflow(page, 'the refused quick order on a phone');
        await screenshot(page, `licences-blocked-quick-order-${label}`);
        // The same refusal in the catalog row.
        await page.goto('/portal/catalog?q=Reagent');
        const row = page.locator('table.catalog tbody tr', { has: page.locator(`input[name="sku"][value="${sku}"]`) });
        await row.getByRole('button', { name: 'Add' }).click();
        await row.locator('.add-status').filter({ hasText: 'expired on' }).waitFor();
        await screenshot(page, `licences-blocked-catalog-${label}`);
      } finally {
        await context.close();
      }
    });
  }

  test('an admin records a licence, uploads its document and verifies it; the badge counts what expires soon', async () => {
    for (const [label, viewport, options] of [['desktop', DESKTOP, {}], ['phone', PHONE, MOBILE]]) {
      const context = await newContext(browser, viewport, options);
      try {
        const page = await context.newPage();
        await signIn(page, ADMIN);
        await page.goto('/admin/accounts');
        const badge = page.locator('#licence-badge');
        await badge.waitFor();
        assert.match(squash(await badge.innerText()), /^\d+ licences? expires? within 30 days$/);

        await openAccount(page, '/admin/accounts', LICENSED);
        const number = `WI-E2E-${uniqueSuffix()}`.toUpperCase();
        const section = page.locator('#licences');
        await section.locator('summary', { hasText: 'Add a licence' }).click();
        await section.locator('#lic-type').selectOption('state_pharmacy');
        await section.locator('#lic-number').fill(number);
        await section.locator('#lic-region').fill('WI');
        await section.locator('#lic-expires').fill('2030-12-31');
        await Promise.all([
          page.waitForURL((u) => u.search.includes('notice=saved')),
          section.getByRole('button', { name: 'Add licence' }).click(),
        ]);
        const row = page.locator(`#licences tr[data-licence="${number}"]`);
        assert.equal(squash(await row.locator('.badge').innerText()), 'Not verified');
        assert.equal(await row.getByRole('button', { name: 'Verify' }).count(), 0, 'nothing to verify without a document');

        await row.locator('input[type="file"]').setInputFiles({
          name: 'pharmacy-licence.pdf',
          mimeType: 'application/pdf',
          buffer: Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
        });
        await Promise.all([
          page.waitForURL((u) => u.search.includes('notice=saved')),
          row.getByRole('button', { name: 'Upload' }).click(),
        ]);
        assert.equal(await row.getByRole('link', { name: 'pharmacy-licence.pdf' }).count(), 1, 'the document is on file');
        await row.scrollIntoViewIfNeeded();
        await screenshot(page, `licences-uploaded-${label}`);
        await Promise.all([
          page.waitForURL((u) => u.search.includes('notice=saved')),
          row.getByRole('button', { name: 'Verify' }).click(),
        ]);
        assert.equal(squash(await row.locator('.badge').innerText()), 'Valid');
        assert.match(squash(await row.innerText()), /verified/);
        if (label === 'phone') await assertNoHorizontalOverflow(page, 'the account page with licences on a phone');
        await row.scrollIntoViewIfNeeded();
        await screenshot(page, `licences-verified-${label}`);

        await page.goto('/licences');
        assert.equal(pathOf(page), '/licences');
        const soon = page.locator('tr', { hasText: 'Cedar Ridge Nursing Home' });
        assert.match(squash(await soon.locator('.badge').innerText()), /^Expires in \d+ days$/);
        await screenshot(page, `licences-attention-${label}`);
      } finally {
        await context.close();
      }
    }
  });
});
