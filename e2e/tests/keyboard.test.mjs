// Keyboard only (issue 17): a buyer finds a product in the catalog, adds it to the cart, goes to
// the cart and checks out with Tab, typing and Enter alone, and every element that takes the focus
// on the way shows it (an outline or a ring that is not transparent).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newContext, pathOf, signIn } from './helpers.mjs';

const BUYER = 'buyer@lakesidefamilycl.example';
const WIDE = { width: 1366, height: 900 };
/** More tabs than any page of the flow needs to reach its target. */
const MAX_TABS = 80;

/** What has the focus, and whether it shows it. */
function focusState(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { none: true };
    const s = getComputedStyle(el);
    const transparent = (c) => c === 'transparent' || /rgba\(.*,\s*0\)$/.test(c);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && !transparent(s.outlineColor);
    const ring = s.boxShadow !== 'none' && !transparent(s.boxShadow.split(') ')[0] + ')');
    // A date field's last tab stop is Chrome's calendar button, inside the field's closed shadow
    // root: the field then matches neither :focus nor :focus-within and its computed style shows
    // no ring, but Chrome draws its own focus ring round the button (checked on a screenshot).
    const calendarButton = el.matches('input[type="date"]') && !el.matches(':focus');
    const r = el.getBoundingClientRect();
    const label = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return {
      none: false,
      what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${label}"`,
      id: el.id,
      text: (el.textContent || '').trim(),
      visible: outline || ring || calendarButton,
      onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < window.innerHeight,
    };
  });
}

/**
 * Presses Tab (or `key`, e.g. Shift+Tab) until `wanted(focus)` holds, asserting on the way that
 * each focused element shows its focus and is on screen; returns how many presses it took.
 */
async function tabTo(page, wanted, what, key = 'Tab') {
  for (let n = 1; n <= MAX_TABS; n++) {
    await page.keyboard.press(key);
    const f = await focusState(page);
    if (f.none) continue;
    assert.ok(f.visible, `${f.what} has the focus without showing it (on the way to ${what})`);
    assert.ok(f.onScreen, `${f.what} has the focus off screen (on the way to ${what})`);
    if (wanted(f)) return n;
  }
  assert.fail(`${what} not reached in ${MAX_TABS} tabs`);
}

/** Presses Enter on the focused element and waits for the page it leads to. */
async function enterTo(page, predicate) {
  await Promise.all([page.waitForURL(predicate, { waitUntil: 'load' }), page.keyboard.press('Enter')]);
}

describe('keyboard', () => {
  let browser;
  before(async () => { browser = await launchBrowser(); });
  after(async () => { await browser?.close(); });

  test('buyer: catalog → add to cart → cart → checkout → placed, by keyboard alone, focus always visible', async () => {
    const context = await newContext(browser, WIDE);
    try {
      const page = await context.newPage();
      await signIn(page, BUYER);

      // Setup (not part of the flow): an empty cart and an in-stock product to look for.
      await page.goto('/portal/cart');
      const removes = page.locator('#cart tbody tr[data-sku]');
      for (let n = await removes.count(); n > 0; n = await removes.count()) {
        await removes.first().getByRole('button', { name: /^Remove/ }).click();
        await page.waitForFunction((before) => document.querySelectorAll('#cart tbody tr[data-sku]').length < before, n);
      }
      await page.goto('/portal/catalog');
      const sku = await page.locator('table.catalog tbody tr').evaluateAll((trs) => {
        for (const tr of trs) {
          const form = tr.querySelector('form.add-row');
          const onHand = Number(((tr.querySelector('.badge')?.textContent ?? '').match(/^(\d+) in stock$/) || [])[1] ?? NaN);
          const qty = Number(form?.querySelector('input.qty')?.value ?? NaN);
          if (form && onHand >= qty) return form.querySelector('input[name="sku"]').value;
        }
        return null;
      });
      assert.ok(sku, 'an in-stock product in the catalog');

      // From here on, the keyboard only. The first tab stop skips the menu.
      await page.goto('/portal/catalog');
      await page.keyboard.press('Tab');
      const skip = await focusState(page);
      assert.equal(skip.text, 'Skip to content', 'the first tab stop is "Skip to content"');
      assert.ok(skip.visible && skip.onScreen, 'and it shows when focused');
      await page.keyboard.press('Enter');
      const tabsToSearch = await tabTo(page, (f) => f.id === 'q', 'the catalog search');
      assert.ok(tabsToSearch <= 3, `after skipping the menu the search is ${tabsToSearch} tab(s) away`);
      await page.keyboard.type(sku);
      await enterTo(page, (u) => u.pathname === '/portal/catalog' && u.searchParams.get('q') === sku);

      await tabTo(page, (f) => f.id === `q-${sku}`, `the quantity of ${sku}`);
      await tabTo(page, (f) => f.text === 'Add', 'its Add button');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelector('form.add-row .add-status')?.textContent.trim());

      // Back up to the menu's Cart item (the top bar comes before the page's content).
      await tabTo(page, (f) => f.text === 'Cart', 'the Cart item of the menu', 'Shift+Tab');
      await enterTo(page, (u) => u.pathname === '/portal/cart');
      assert.equal(await page.locator(`#cart tbody tr[data-sku="${sku}"]`).count(), 1, 'the product is in the cart');

      await tabTo(page, (f) => f.id === 'cart-checkout', 'Check out');
      await enterTo(page, (u) => u.pathname === '/portal/checkout');

      // The PO number is required for this account: checkout starts with the focus in it (no
      // tab needed); the rest keeps its defaults.
      const po = await focusState(page);
      assert.equal(po.id, 'po_number', `the focus starts in the PO number (it is on ${po.what})`);
      assert.ok(po.visible && po.onScreen, 'and shows it');
      await page.keyboard.type(`KBD-${Date.now().toString(36)}`);
      await tabTo(page, (f) => f.id === 'place-order', 'Place order');
      await enterTo(page, (u) => /^\/portal\/orders\/SO-\d+$/.test(u.pathname));
      assert.match(pathOf(page), /^\/portal\/orders\/SO-\d+\?placed=1$/, 'the order is placed');
    } finally {
      await context.close();
    }
  });
});
