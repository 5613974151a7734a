// Product images (issue 17), end to end: the admin uploads an image on a product's admin page (an
// SVG is refused next to the field, the page kept), makes it the primary and gives it alt text;
// the buyer then sees it on the product page (medium, with the demo's picture as a thumbnail
// beside it), in the catalog and on the cart line, every image loaded, no layout shift, axe clean.
// Screenshots at 1366 px and 390 px. The test removes its image and empties the cart at the end,
// so the shared demo is as it was.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import {
  MOBILE, PHONE, assertNoHorizontalOverflow, clickTo, drawPng, emptyCart, inStockProducts, launchBrowser, newContext, screenshot, signIn,
} from './helpers.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WIDE = { width: 1366, height: 900 };
const ADMIN = 'admin@meridian-supply.example';
const BUYER = 'manager@lakesidefamilycl.example';
const ALT = 'A teal test carton with a white stripe';

let browser;

before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A 600×400 RGB PNG drawn here: a teal carton with a white stripe on light grey. */
function cartonPng() {
  return drawPng(600, 400, 3, (x, y) => {
    const box = x > 120 && x < 480 && y > 60 && y < 340;
    const stripe = box && y > 180 && y < 210;
    return stripe ? [255, 255, 255] : box ? [15, 118, 110] : [236, 239, 243];
  });
}

/** Serious and critical axe violations of the page as it is. */
async function axeProblems(page) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) })));
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Every <img> of the page loaded, and carries width and height (its space is reserved). */
async function assertImagesLoaded(page, what) {
  await page.evaluate(async () => {
    // Lazy images load when scrolled to: bring each into view, then wait for it.
    for (const img of document.querySelectorAll('main img')) {
      img.scrollIntoView();
      if (!img.complete) await new Promise((r) => { img.onload = r; img.onerror = r; });
    }
    window.scrollTo(0, 0);
  });
  const bad = await page.locator('main img').evaluateAll((imgs) => imgs
    .filter((i) => !(i.complete && i.naturalWidth > 0 && i.getAttribute('width') && i.getAttribute('height') && i.alt))
    .map((i) => i.src));
  assert.deepEqual(bad, [], `${what}: every image loaded, with width, height and alt`);
}

/** A submit that loads a page (a 303 and the page it leads to, or a refused form's page). */
async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

/** The same page on a phone (390 px), with the session's cookies: no sideways scrolling. */
async function phoneShot(page, name) {
  const phone = await newContext(browser, PHONE, MOBILE);
  await phone.addCookies(await page.context().cookies());
  const p = await phone.newPage();
  await p.goto(page.url());
  await assertNoHorizontalOverflow(p, `${name} on a phone`);
  await assertImagesLoaded(p, `${name} on a phone`);
  await screenshot(p, `${name}-phone`);
  await phone.close();
}

describe('product images', () => {
  test('product images: the admin uploads one and makes it primary; the buyer sees it on the product page, catalog and cart', async () => {
    const buyerCtx = await newContext(browser, WIDE);
    const buyer = await buyerCtx.newPage();
    await signIn(buyer, BUYER);
    await emptyCart(buyer);
    const [{ sku, qty }] = await inStockProducts(buyer, 1);
    // The demo gives every product a picture: the catalog shows thumbnails that loaded.
    await assertImagesLoaded(buyer, 'the catalog');
    assert.ok(await buyer.locator('table.catalog img.thumb').count() > 0, 'the catalog shows thumbnails');
    await screenshot(buyer, 'product-images-catalog-desktop');
    await phoneShot(buyer, 'product-images-catalog');

    const adminCtx = await newContext(browser, WIDE);
    const admin = await adminCtx.newPage();
    await signIn(admin, ADMIN);
    await admin.goto(`/admin/products/${encodeURIComponent(sku)}`);
    const before = await admin.locator('#images .image-item').count();
    assert.ok(before >= 1, 'the demo product has its picture');

    // An SVG is refused next to the file input, on the product page with its menu.
    await admin.setInputFiles('#images-input', {
      name: 'drawing.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    });
    await admin.fill('#image-alt', ALT);
    await submit(admin, admin.getByRole('button', { name: 'Upload' }));
    assert.match(await admin.locator('#images-error').innerText(), /SVG images are not accepted/);
    assert.equal(await admin.locator('#images-input').getAttribute('aria-invalid'), 'true');
    assert.equal(await admin.inputValue('#image-alt'), ALT, 'the alt text typed is kept');
    assert.ok(await admin.locator('header.topbar nav').count(), 'the page keeps its shell');
    assert.equal(await admin.locator('#images .image-item').count(), before, 'nothing was added');

    // Upload a real image, then make it the primary.
    await admin.setInputFiles('#images-input', { name: 'carton.png', mimeType: 'image/png', buffer: cartonPng() });
    await submit(admin, admin.getByRole('button', { name: 'Upload' }));
    assert.match(admin.url(), /notice=images_added/);
    const items = admin.locator('#images .image-item');
    assert.equal(await items.count(), before + 1);
    const added = items.last();
    assert.match(await added.innerText(), /600×400 px/);
    const id = (await added.locator('img').getAttribute('src')).match(/\/product-images\/([^/]+)\/thumb/)[1];
    await submit(admin, added.getByRole('button', { name: 'Make primary' }));
    assert.match(admin.url(), /notice=image_primary/);
    assert.equal(await admin.locator('#images .image-item.primary img').getAttribute('src'), `/product-images/${id}/thumb`);
    await assertImagesLoaded(admin, 'the admin product page');
    assert.deepEqual(await axeProblems(admin), [], 'the admin product page passes axe');
    await screenshot(admin, 'product-images-admin-desktop');
    await phoneShot(admin, 'product-images-admin');

    // The buyer's product page: the new image large, with its alt text; the demo's as a thumbnail.
    await buyer.goto(`/portal/products/${encodeURIComponent(sku)}`);
    const main = buyer.locator('.gallery-main img');
    assert.equal(await main.getAttribute('src'), `/product-images/${id}/medium`);
    assert.equal(await main.getAttribute('alt'), ALT);
    assert.equal(await main.evaluate((img) => img.naturalWidth), 480);
    assert.ok(await buyer.locator('.gallery-others img.thumb').count() >= 1, 'the other images as thumbnails');
    await assertImagesLoaded(buyer, 'the product page');
    assert.deepEqual(await axeProblems(buyer), [], 'the product page passes axe');
    await screenshot(buyer, 'product-images-product-desktop');
    await phoneShot(buyer, 'product-images-product');

    // Into the cart: the line shows the thumbnail.
    await buyer.fill('#pq', String(qty));
    await buyer.getByRole('button', { name: 'Add to cart' }).click();
    await buyer.locator('#add-status .ok').waitFor();
    await clickTo(buyer, buyer.locator('#add-status a', { hasText: 'Cart' }), (u) => u.pathname === '/portal/cart');
    const line = buyer.locator(`#cart tr[data-sku="${sku}"] img.thumb`);
    assert.equal(await line.getAttribute('src'), `/product-images/${id}/thumb`);
    assert.equal(await line.getAttribute('alt'), ALT);
    await assertImagesLoaded(buyer, 'the cart');
    await screenshot(buyer, 'product-images-cart-desktop');
    await phoneShot(buyer, 'product-images-cart');

    // Leave the demo as it was: the image deleted (the demo's picture is primary again), the cart empty.
    await admin.goto(`/admin/products/${encodeURIComponent(sku)}`);
    await submit(admin, admin.locator('#images .image-item.primary').getByRole('button', { name: 'Delete' }));
    assert.match(admin.url(), /notice=image_deleted/);
    assert.equal(await admin.locator('#images .image-item').count(), before);
    await emptyCart(buyer);
    await adminCtx.close();
    await buyerCtx.close();
  });
});
