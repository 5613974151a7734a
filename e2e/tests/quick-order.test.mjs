// Quick order beyond pasting (that is in ordering.test.mjs): a buyer uploads a CSV file — the good
// rows land in the cart, every bad row is reported with its reason and kept in the box, where the
// buyer fixes it — and adds a product through the SKU entry row's type-ahead.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DESKTOP, clickTo, emptyCart, launchBrowser, newContext, pathOf, screenshot, signIn } from './helpers.mjs';

// A buyer of an account no other browser test orders for (they use Lakeside's carts). E-mails of
// accounts other than Lakeside come from the demo's seeded generator (src/demo/mod.rs), so they are
// the same on every run of the same seed.
const ACCOUNT = 'Northgate Dental Group';
const BUYER = 'aisha.schmidt@northgatedentalg.example';
// How many catalog pages to read for products before giving up.
const MAX_CATALOG_PAGES = 5;
// Products whose quantity rules are "any whole number" (for the good rows and the type-ahead), and
// products sold in steps (min = multiple > 1) for rule-breaking rows.
const PLAIN_NEEDED = 7;
const STEPPED_NEEDED = 2;

const squash = (s) => s.replace(/\s+/g, ' ').trim();

/** The cart's lines as SKU → quantity (from the quantity inputs), read from /portal/cart. */
async function cartLines(page) {
  if (pathOf(page) !== '/portal/cart') await page.goto('/portal/cart');
  const rows = await page.locator('#cart tbody tr[data-sku]').evaluateAll((trs) => trs.map((tr) => [
    tr.dataset.sku,
    Number(tr.querySelector('input.qty').value),
  ]));
  return new Map(rows);
}

/**
 * Orderable products of the buyer's catalog, read from /portal/catalog and its next pages: `plain`
 * ones (min 1, any quantity) and `stepped` ones (min = multiple > 1), as { sku, min, step }.
 */
async function catalogProducts(page) {
  await page.goto('/portal/catalog');
  const plain = [];
  const stepped = [];
  for (let n = 1; n <= MAX_CATALOG_PAGES; n++) {
    const rows = await page.locator('table.catalog form.add-row').evaluateAll((forms) => forms.map((f) => {
      const qty = f.querySelector('input.qty');
      return { sku: f.querySelector('input[name="sku"]').value, min: Number(qty.min), step: Number(qty.step) };
    }));
    for (const p of rows) {
      if (p.min === 1 && p.step === 1) plain.push(p);
      else if (p.step > 1 && p.min === p.step) stepped.push(p);
    }
    const next = page.locator('.pagination a', { hasText: 'Next page' });
    if ((plain.length >= PLAIN_NEEDED && stepped.length >= STEPPED_NEEDED) || !(await next.count())) break;
    await clickTo(page, next, (u) => u.pathname === '/portal/catalog');
  }
  assert.ok(plain.length >= PLAIN_NEEDED, `${PLAIN_NEEDED} products with no quantity rule (found ${plain.length})`);
  assert.ok(stepped.length >= STEPPED_NEEDED, `${STEPPED_NEEDED} products sold in steps (found ${stepped.length})`);
  return { plain, stepped };
}

/** Signs the buyer in and checks they landed on their account's portal home. */
async function signInBuyer(page) {
  await signIn(page, BUYER);
  assert.equal(pathOf(page), '/portal', `${BUYER} lands on the portal`);
  assert.equal((await page.locator('h1').innerText()).trim(), ACCOUNT, `${BUYER} is a buyer of ${ACCOUNT}`);
}

/** Problem rows of the quick order page as [line, text, reason]. */
async function problemRows(page) {
  return (await page.locator('#qo-problems tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')]
    .map((td) => td.textContent)))).map((cells) => cells.map(squash));
}

/** The type-ahead options (SKU values) once the list answers for exactly `typed`. */
async function suggestionsFor(page, typed, type) {
  const answered = page.waitForResponse((r) => {
    const u = new URL(r.url());
    return u.pathname === '/portal/sku-suggest' && u.searchParams.get('sku') === typed;
  });
  await type();
  const response = await answered;
  assert.equal(response.status(), 200, `the suggestions for "${typed}"`);
  const answer = [...(await response.text()).matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
  // The swap into the datalist follows the response.
  await page.waitForFunction((expected) => JSON.stringify([...document.querySelectorAll('#sku-options option')]
    .map((o) => o.value)) === expected, JSON.stringify(answer));
  return page.locator('#sku-options option').evaluateAll((os) => os.map((o) => ({ value: o.value, label: o.textContent })));
}

describe('quick order', () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  test('buyer uploads a CSV: good rows land in the cart, bad rows are explained and kept to fix', async () => {
    const context = await newContext(browser, DESKTOP);
    try {
      const page = await context.newPage();
      await signInBuyer(page);
      await emptyCart(page);
      const { plain, stepped } = await catalogProducts(page);
      // A typo of a real SKU: one extra keystroke at the end. The lowest SKU of those read keeps it
      // among the candidates "did you mean" compares (the first 200 SKUs of its first 4 characters).
      const pool = plain.slice(0, PLAIN_NEEDED);
      const typoOf = pool.map((p) => p.sku).sort()[0];
      const typo = `${typoOf}Q`;
      const [a, b, c, d, badQty] = pool.filter((p) => p.sku !== typoOf);
      const [notMultiple, belowMin] = stepped;

      // As a spreadsheet saves "CSV UTF-8": a byte-order mark, CRLF line ends, some quoted fields.
      const rows = [
        'SKU,Quantity', // line 1: the header row, skipped
        `${a.sku},3`,
        `${typo},4`, // line 3: no such SKU; a suggestion
        `${b.sku},12`,
        `${notMultiple.sku},${notMultiple.step + 1}`, // line 5: not a multiple
        `"${c.sku}","1"`,
        `${badQty.sku},two`, // line 7: not a number
        `${belowMin.sku},1`, // line 8: below the minimum
        `${a.sku.toLowerCase()},2`, // line 9: line 2's SKU again, added to it
        `${d.sku},7`,
      ];
      const csv = `\uFEFF${rows.join('\r\n')}\r\n`;
      const expectedCart = new Map([[a.sku, 5], [b.sku, 12], [c.sku, 1], [d.sku, 7]]);
      const expectedProblems = [
        ['3', rows[2], `There is no product with SKU ${typo}. Did you mean ${typoOf}? Add ${typoOf} × 4`],
        ['5', rows[4], `${notMultiple.sku}: sold in multiples of ${notMultiple.step} (try ${notMultiple.step} or ${2 * notMultiple.step}).`],
        ['7', rows[6], '“two” is not a whole-number quantity'],
        ['8', rows[7], `${belowMin.sku}: minimum order quantity is ${belowMin.min}.`],
      ];

      await clickTo(page, page.locator('nav.nav').getByRole('link', { name: 'Quick order' }),
        (u) => u.pathname === '/portal/quick-order');
      await page.setInputFiles('#qo-file', { name: 'northgate-restock.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
      const [upload] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/portal/quick-order/upload'),
        page.getByRole('button', { name: 'Upload and add' }).click(),
      ]);
      // htmx sends the file as multipart with the page's CSRF token in a header.
      const sent = upload.request().headers();
      assert.match(sent['content-type'] ?? '', /^multipart\/form-data; boundary=/, 'the file is sent as multipart');
      assert.equal(sent['x-csrf-token'], await page.locator('meta[name="csrf-token"]').getAttribute('content'),
        'the CSRF token goes in the header');
      assert.equal(upload.status(), 200, 'the upload is accepted');
      const summary = page.locator('#qo-summary');
      await summary.waitFor();
      assert.equal(pathOf(page), '/portal/quick-order', 'the answer replaces the page in place');

      assert.equal(squash(await summary.innerText()),
        '4 lines added to your cart; 4 need fixing (kept in the box below). Review the cart or Check out');
      assert.deepEqual(await problemRows(page), expectedProblems, 'every bad row, by its line number, as written, with why');
      assert.equal(await page.inputValue('#qo-lines'), expectedProblems.map((p) => p[1]).join('\n'),
        'the bad rows (and only those) are in the box to fix');
      assert.equal(squash(await page.locator('.page-head a.btn', { hasText: 'Cart' }).innerText()), 'Cart (4)',
        'the cart button counts the lines');
      await screenshot(page, 'quick-order-csv-upload');

      // "Did you mean" is one click: the typo's row adds the SKU it meant, with the quantity asked.
      const typoRow = page.locator('#qo-problems tbody tr').nth(0);
      const suggest = typoRow.locator('form.suggestion button');
      assert.equal(squash(await suggest.innerText()), `Add ${typoOf} × 4`);
      await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/portal/cart/add' && r.status() === 200),
        suggest.click(),
      ]);
      await typoRow.locator('td', { hasText: `Added 4 × ${typoOf}` }).waitFor();
      assert.equal(pathOf(page), '/portal/quick-order', 'the other rows to fix stay on the page');
      expectedCart.set(typoOf, 4);

      // The cart, in a second tab so the rows to fix stay on this one.
      const cart = await context.newPage();
      await cart.goto('/portal/cart');
      assert.deepEqual(await cartLines(cart), expectedCart, 'the good rows, with their quantities (repeats added up)');
      assert.match(squash(await cart.locator('#cart tfoot').textContent()), /^Subtotal \(5 lines\)/);
      await screenshot(cart, 'quick-order-csv-cart');

      // Fix each kept row in the box as its reason says, and send the box.
      const fixes = new Map([
        [rows[2], ''], // added by its suggestion: dropped from the box
        [rows[4], `${notMultiple.sku},${2 * notMultiple.step}`],
        [rows[6], `${badQty.sku},2`],
        [rows[7], `${belowMin.sku},${belowMin.min}`],
      ]);
      const box = (await page.inputValue('#qo-lines')).split('\n').map((line) => fixes.get(line) ?? line).join('\n');
      await page.fill('#qo-lines', box);
      await clickTo(page, page.locator('form', { has: page.locator('#qo-lines') }).getByRole('button', { name: 'Add to cart' }),
        (u) => u.pathname === '/portal/quick-order');
      assert.equal(squash(await page.locator('#qo-summary.flash-ok').innerText()),
        '3 lines added to your cart. Review the cart or Check out', 'every fixed row is added');
      assert.equal(await page.locator('#qo-problems').count(), 0, 'nothing left to fix');
      assert.equal(await page.inputValue('#qo-lines'), '', 'the box is empty');
      assert.equal(squash(await page.locator('.page-head a.btn', { hasText: 'Cart' }).innerText()), 'Cart (8)');

      for (const line of [...fixes.values()].filter(Boolean)) {
        const [sku, qty] = line.split(',');
        expectedCart.set(sku, Number(qty));
      }
      await cart.reload();
      assert.deepEqual(await cartLines(cart), expectedCart, 'the cart has the good rows and the fixed ones');

      await emptyCart(cart);
    } finally {
      await context.close();
    }
  });

  test('buyer types part of a SKU, picks a suggestion and adds it with a quantity', async () => {
    const qty = 4;
    const context = await newContext(browser, DESKTOP);
    try {
      const page = await context.newPage();
      await signInBuyer(page);
      await emptyCart(page);
      const { plain } = await catalogProducts(page);
      const target = plain[PLAIN_NEEDED - 1].sku;

      await page.goto('/portal/quick-order');
      const input = page.locator('#entry-sku');
      assert.equal(await input.getAttribute('list'), 'sku-options', 'the SKU field offers the suggestion list');
      await input.click();
      // Type the start of the SKU in lower case, then one more character at a time until the
      // suggestions (at most ten) include it.
      let typed = target.slice(0, target.indexOf('-') + 2).toLowerCase();
      let options = await suggestionsFor(page, typed, () => input.pressSequentially(typed));
      while (!options.some((o) => o.value === target)) {
        assert.ok(typed.length < target.length, `"${target}" is suggested before it is typed in full`);
        const next = target[typed.length].toLowerCase();
        typed += next;
        options = await suggestionsFor(page, typed, () => input.press(next));
      }
      assert.ok(options.length >= 1 && options.length <= 10, `one to ten suggestions (got ${options.length})`);
      for (const o of options) {
        assert.ok(o.value.startsWith(typed.toUpperCase()), `suggestion ${o.value} starts with "${typed}"`);
        assert.ok(o.label.trim().length > 0, `suggestion ${o.value} is labelled with the product name`);
      }
      assert.deepEqual(options.map((o) => o.value), [...options.map((o) => o.value)].sort(), 'suggestions in SKU order');
      await screenshot(page, 'quick-order-typeahead');

      // Picking an option of a datalist puts its value in the field; headless Chromium draws no
      // popup to click, so the test does what the pick does.
      const picked = options.find((o) => o.value === target).value;
      await input.fill(picked);
      await page.fill('#entry-qty', String(qty));
      const form = page.locator('form', { has: input });
      await form.getByRole('button', { name: 'Add', exact: true }).click();
      const status = page.locator('#entry-status');
      await status.locator('.ok').waitFor();
      assert.equal(squash(await status.innerText()), `✓ Added ${qty} × ${picked} · Cart (1)`, 'the row confirms the add');
      assert.equal(await status.locator('.field-error').count(), 0, 'no problem reported');
      assert.equal(pathOf(page), '/portal/quick-order', 'the page stays put');
      await screenshot(page, 'quick-order-sku-added');

      await clickTo(page, status.getByRole('link', { name: 'Cart (1)' }), (u) => u.pathname === '/portal/cart');
      assert.deepEqual(await cartLines(page), new Map([[picked, qty]]), 'the picked product is in the cart with the quantity');
      await screenshot(page, 'quick-order-sku-cart');

      await emptyCart(page);
    } finally {
      await context.close();
    }
  });
});
