// Customer service records a partial shipment of a confirmed order; the buyer tracks it, on a
// desktop and on a phone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  MOBILE, PHONE, assertNoHorizontalOverflow, launchBrowser, newContext, screenshot, signIn,
} from './helpers.mjs';

const BUYER = 'buyer@lakesidefamilycl.example';
const DESK = 'carla.nguyen@meridian-supply.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('desk ships part of a confirmed order and the buyer tracks it', async () => {
  const buyer = await newContext(browser);
  const desk = await newContext(browser);
  const phone = await newContext(browser, PHONE, MOBILE);
  try {
    // The buyer's orders, newest first.
    const b = await buyer.newPage();
    await signIn(b, BUYER);
    await b.goto('/portal/orders');
    const numbers = await b.locator('a[href^="/portal/orders/SO-"]').evaluateAll(
      (links) => [...new Set(links.map((a) => a.getAttribute('href').split('/').pop()))],
    );
    assert.ok(numbers.length > 0, 'the demo buyer has orders');

    // Desk takes one still open with more than one line, confirms it if need be, and ships one
    // unit of its first line.
    const d = await desk.newPage();
    await signIn(d, DESK);
    let number;
    for (const n of numbers) {
      await d.goto(`/orders/${n}`);
      const status = (await d.locator('#order-status').innerText()).trim();
      if (!['Placed', 'Confirmed'].includes(status) || (await d.locator('table.order-lines tbody tr').count()) < 2) continue;
      if (status === 'Placed') {
        await Promise.all([d.waitForURL(`**/orders/${n}?notice=*`), d.getByRole('button', { name: 'Confirm order' }).click()]);
      }
      if ((await d.locator('#ship input[name^="ship_"]').count()) > 1) { number = n; break; }
    }
    assert.ok(number, 'an open order with several reserved lines');
    const inputs = d.locator('#ship input[name^="ship_"]');
    const count = await inputs.count();
    for (let i = 0; i < count; i++) await inputs.nth(i).fill(i === 0 ? '1' : '0');
    await d.fill('#sh-carrier', 'UPS');
    await d.fill('#sh-tracking', '1Z999AA10123456784');
    await Promise.all([
      d.waitForURL(`**/orders/${number}?notice=shipment_recorded`),
      d.getByRole('button', { name: 'Record shipment' }).click(),
    ]);
    assert.equal((await d.locator('#order-status').innerText()).trim(), 'Partly shipped');
    assert.match(await d.locator('#shipments').innerText(), /SH-\d+ · shipped .* from \w+ · UPS/);

    // The buyer sees the shipment, what shipped per line and the carrier's tracking link.
    await b.goto(`/portal/orders/${number}`);
    assert.equal((await b.locator('#order-status').innerText()).trim(), 'Partly shipped');
    const track = b.locator('#shipments a.tracking');
    assert.equal(await track.getAttribute('href'), 'https://www.ups.com/track?tracknum=1Z999AA10123456784');
    assert.equal((await b.locator('table.order-lines tbody tr').first().locator('td.shipped').innerText()).trim(), '1');
    assert.equal(await b.locator('#ship').count(), 0, 'buyers cannot record shipments');
    await screenshot(b, 'buyer-partial-shipment');

    // On a phone too, without sideways scrolling.
    const p = await phone.newPage();
    await signIn(p, BUYER);
    await p.goto(`/portal/orders/${number}`);
    assert.ok(await p.locator('#shipments a.tracking').isVisible());
    await assertNoHorizontalOverflow(p, 'the order page with a shipment on a phone');
    await screenshot(p, 'buyer-partial-shipment-phone');
  } finally {
    await Promise.all([buyer.close(), desk.close(), phone.close()]);
  }
});
