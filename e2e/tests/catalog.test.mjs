// The catalog: a buyer searches, opens a product priced by their contract and reads the price
// explanation, volume tiers and stock; a rep "views as" the same account and sees exactly that.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DESKTOP, PHONE, assertNoHorizontalOverflow, launchBrowser, navTexts, newContext, pathOf,
  screenshot, signIn,
} from './helpers.mjs';

const BUYER = 'manager@lakesidefamilycl.example';
const REP = 'rosa.martinez@meridian-supply.example';
const ACCOUNT = 'Lakeside Family Clinic';
const SEARCH = 'needle';
// How many result pages to look through for a contract-priced product before giving up.
const MAX_PAGES = 5;

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Submits the catalog search form and waits for the results page. */
async function search(page, term) {
  await page.fill('#q', term);
  await Promise.all([
    page.waitForURL((u) => u.pathname.endsWith('/catalog') && u.searchParams.get('q') === term, { waitUntil: 'load' }),
    page.locator('form.search').getByRole('button', { name: 'Search' }).click(),
  ]);
  assert.equal(await page.inputValue('#q'), term, 'the search box keeps the term');
}

/**
 * The first catalog row (on this or a following result page, at most MAX_PAGES) whose price
 * source label reads "Your contract price"; returns its product link text and href.
 */
async function findContractRow(page) {
  for (let n = 1; n <= MAX_PAGES; n++) {
    const row = page.locator('table.catalog tbody tr', {
      has: page.locator('td.num small', { hasText: /^Your contract price$/ }),
    }).first();
    if (await row.count()) {
      const link = row.locator('a[href*="/products/"]').first();
      return { name: (await link.innerText()).trim(), href: await link.getAttribute('href') };
    }
    const next = page.locator('.pagination a', { hasText: 'Next page' });
    if (!(await next.count())) break;
    await Promise.all([page.waitForURL('**/catalog?**', { waitUntil: 'load' }), next.click()]);
  }
  assert.fail(`no contract-priced product in the first ${MAX_PAGES} result pages for "${SEARCH}"`);
}

/**
 * The catalog table as text without its ordering controls: the "Order" column (quantity and Add)
 * is there only for those who may order, so a read-only view-as leaves it out.
 */
async function catalogText(page) {
  return page.locator('table.catalog').evaluate((table) => {
    const orderCol = [...table.querySelectorAll('thead th')].findIndex((th) => th.textContent.trim() === 'Order');
    return [...table.querySelectorAll('tr')]
      .map((tr) => [...tr.children].filter((_, i) => i !== orderCol).map((c) => c.innerText.trim()).join('\t'))
      .join('\n');
  });
}

/** Asserts no table on the page needs sideways scrolling inside its box (nothing cut off). */
async function assertTablesFit(page, what) {
  const wide = await page.locator('.table-wrap').evaluateAll((els) => els
    .filter((el) => el.scrollWidth > el.clientWidth + 1)
    .map((el) => `${el.querySelector('table')?.className || 'table'}: ${el.scrollWidth}px in ${el.clientWidth}px`));
  assert.deepEqual(wide, [], `${what}: tables wider than their box`);
}

/** Texts of the product page's price card. */
async function priceCard(page) {
  return {
    price: (await page.locator('.price').first().innerText()).trim(),
    explain: (await page.locator('p.explain').innerText()).trim(),
  };
}

describe('catalog', () => {
  let browser;
  // What the buyer saw, for the view-as comparison.
  let buyerSaw;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  test('buyer searches, opens a product and sees the contract price with its explanation and tiers', async () => {
    const context = await newContext(browser, DESKTOP);
    try {
      const page = await context.newPage();
      await signIn(page, BUYER);
      assert.equal(pathOf(page), '/portal');
      assert.deepEqual(await navTexts(page), ['Home', 'Catalog', 'Quick order', 'Orders', 'Invoices', 'Payments', 'Statement', 'Lists', 'Cart', 'Account', 'Users'], 'buyer navigation');

      await Promise.all([
        page.waitForURL('**/portal/catalog', { waitUntil: 'load' }),
        page.locator('nav.nav').getByRole('link', { name: 'Catalog' }).click(),
      ]);
      assert.equal(pathOf(page), '/portal/catalog');
      assert.equal(await page.locator('nav.nav a[aria-current="page"]').getAttribute('href'), '/portal/catalog',
        'Catalog is the active nav item');
      assert.ok(await page.locator('nav.categories a').count() > 1, 'the category sidebar lists categories');
      assert.ok(await page.locator('table.catalog tbody tr').count() > 0, 'the unfiltered catalog lists products');

      await search(page, SEARCH);
      const rows = page.locator('table.catalog tbody tr');
      assert.ok(await rows.count() > 0, `"${SEARCH}" finds products`);
      assert.ok(await page.locator('table.catalog thead th', { hasText: /^Order$/ }).count() === 1,
        'the buyer may order: an Order column');
      const tableText = await catalogText(page);
      assert.match(tableText, /Your price/i, 'the price column heading');
      const firstPrice = (await rows.first().locator('.price').innerText()).trim();
      assert.match(firstPrice, /^\$\d/, 'rows show a dollar price');
      assert.ok(await rows.first().locator('.badge').count() === 1, 'rows show a stock badge');

      await screenshot(page, 'catalog-desktop');
      await page.setViewportSize(PHONE);
      await assertNoHorizontalOverflow(page, 'the catalog search results on a phone');
      await assertTablesFit(page, 'the catalog search results on a phone');
      await screenshot(page, 'catalog-phone');
      await page.setViewportSize(DESKTOP);

      const product = await findContractRow(page);
      assert.match(product.href, /^\/portal\/products\/[A-Z0-9-]+$/, 'product link');
      const contractRow = page.locator('table.catalog tbody tr', { has: page.locator(`a[href="${product.href}"]`) });
      // A contract price below list shows the list price struck through.
      const struck = contractRow.locator('td.num s');
      if (await struck.count()) {
        assert.match((await struck.innerText()).trim(), /^\$\d/, 'struck-through list price');
      }

      await Promise.all([
        page.waitForURL(`**${product.href}`, { waitUntil: 'load' }),
        contractRow.locator(`a[href="${product.href}"]`).click(),
      ]);
      assert.equal(pathOf(page), product.href);
      assert.equal((await page.locator('h1').innerText()).trim(), product.name, 'product heading');

      const card = page.locator('section.card', { has: page.locator('h2', { hasText: /^Your price$/ }) });
      assert.equal(await card.count(), 1, '"Your price" card');
      const { price, explain } = await priceCard(page);
      assert.ok(price.startsWith('$'), `price "${price}" starts with $`);
      assert.ok(explain.includes('Your contract price — contract C-'), `explanation: "${explain}"`);
      assert.ok(explain.includes('valid to'), `explanation names the end date: "${explain}"`);
      assert.match(explain, /contract C-1001\b/, 'it is Lakeside\'s contract');

      assert.equal(await page.locator('h2', { hasText: /^Volume pricing$/ }).count(), 1, 'volume pricing section');
      const tiers = page.locator('table.tiers tbody tr');
      assert.ok(await tiers.count() >= 1, 'at least one price tier');
      assert.match((await tiers.first().innerText()).trim(), /^\d+\+\s+\$\d/, 'tier row: quantity and price');
      assert.ok(await page.locator('table.tiers').innerText().then((t) => t.includes('Contract')),
        'a tier comes from the contract');

      const stock = page.locator('section.card', { has: page.locator('h2', { hasText: /^Stock by warehouse$/ }) });
      assert.equal(await stock.count(), 1, 'stock section');
      assert.equal(await stock.locator('table').count(), 1, 'stock by warehouse table');
      assert.ok(await stock.locator('tbody tr').count() >= 1, 'at least one warehouse');

      await assertTablesFit(page, 'the product page on a desktop');
      await screenshot(page, 'product-desktop');
      await page.setViewportSize(PHONE);
      await assertNoHorizontalOverflow(page, 'the product page on a phone');
      await assertTablesFit(page, 'the product page on a phone');
      await screenshot(page, 'product-phone');

      buyerSaw = { tableText, product, price, explain };
    } finally {
      await context.close();
    }
  });

  test('staff view-as shows exactly what the buyer sees', async (t) => {
    if (!buyerSaw) {
      t.skip('needs the buyer test to have run first');
      return;
    }
    const context = await newContext(browser, DESKTOP);
    try {
      const page = await context.newPage();
      await signIn(page, REP);
      assert.equal(pathOf(page), '/rep');

      const account = page.locator('.book-account a.book-name', { hasText: ACCOUNT }).first();
      assert.equal(await account.count(), 1, `${ACCOUNT} is in the rep's book`);
      await Promise.all([page.waitForURL(/\/accounts\/[^/?]+$/, { waitUntil: 'load' }), account.click()]);
      assert.match(await page.locator('h1').innerText(), new RegExp(`^${escapeRegExp(ACCOUNT)}`));
      const accountPath = new URL(page.url()).pathname;

      await Promise.all([
        page.waitForURL(`**${accountPath}/catalog`, { waitUntil: 'load' }),
        page.getByRole('link', { name: 'View catalog as this account' }).click(),
      ]);
      const banner = page.locator('.banner');
      // The banner is a flex row, so its innerText breaks lines between the parts.
      assert.match((await banner.innerText()).replace(/\s+/g, ' ').trim(), new RegExp(`^Viewing the catalog as ${escapeRegExp(ACCOUNT)}`));
      assert.equal((await banner.locator('strong').innerText()).trim(), ACCOUNT, 'the banner names the account');

      await search(page, SEARCH);
      assert.equal(pathOf(page), `${accountPath}/catalog?q=${SEARCH}`);
      assert.equal(await page.locator('.banner').count(), 1, 'the banner stays on the results');
      assert.equal(await page.locator('table.catalog form.add-row').count(), 0, 'view-as is read-only: no Add forms');
      // Staff read "Their price" where the buyer reads "Your price"; the rest is the same.
      assert.equal(await page.locator('table.catalog thead th', { hasText: /^Their price$/ }).count(), 1,
        'staff see the account\'s price as theirs');
      assert.equal((await catalogText(page)).replace(/their price/i, (m) => (m === m.toUpperCase() ? 'YOUR PRICE' : 'Your price')),
        buyerSaw.tableText,
        'the same results, prices and stock as the buyer saw');
      const links = page.locator('table.catalog tbody a[href*="/products/"]');
      assert.ok(await links.count() > 0, 'view-as results link to products');
      for (const href of await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
        assert.ok(href.startsWith(`${accountPath}/products/`), `view-as product link stays in view-as: ${href}`);
      }
      await screenshot(page, 'view-as-desktop');

      // The same product, through the view-as URL.
      const sku = buyerSaw.product.href.split('/').pop();
      await page.goto(`${accountPath}/products/${sku}`);
      assert.equal(await page.locator('.banner').count(), 1, 'the banner on the product page');
      assert.equal((await page.locator('h1').innerText()).trim(), buyerSaw.product.name, 'product heading');
      assert.equal(await page.locator('h2', { hasText: /^Their price$/ }).count(), 1, 'the price card names whose price');
      const { price, explain } = await priceCard(page);
      assert.equal(price, buyerSaw.price, 'the same price as the buyer');
      assert.equal(explain, buyerSaw.explain, 'the same explanation as the buyer');
    } finally {
      await context.close();
    }
  });
});
