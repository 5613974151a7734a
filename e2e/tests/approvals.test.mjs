// Buyer approvals: the purchasing manager approves the requester's waiting order from home in two
// clicks (on a phone), and a requester's new order is rejected with a comment the requester reads.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DESKTOP, MOBILE, PHONE, assertNoHorizontalOverflow, clicksSoFar, countClicks, launchBrowser, newContext, pathOf,
  resetClicks, screenshot, signIn,
} from './helpers.mjs';

const MANAGER = 'manager@lakesidefamilycl.example';
const REQUESTER = 'requester@lakesidefamilycl.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('the manager approves a waiting order from home in two clicks, on a phone', async () => {
  const context = await newContext(browser, PHONE, MOBILE);
  await countClicks(context);
  try {
    const page = await context.newPage();
    await signIn(page, MANAGER);
    assert.equal(pathOf(page), '/portal');
    await resetClicks(page);
    const queue = page.locator('#awaiting');
    assert.match(await queue.locator('h2').innerText(), /Waiting for your approval \(\d+\)/);
    const first = queue.locator('li.awaiting-order').first();
    const number = await first.getAttribute('data-order');
    assert.match(await first.innerText(), /Orders you submit are approved by a purchasing manager/);
    await assertNoHorizontalOverflow(page, 'manager home');
    await screenshot(page, 'approvals-home-phone');

    // Click 1: review it.
    await Promise.all([page.waitForURL(`**/portal/orders/${number}#approval`), first.getByRole('link', { name: 'Review and approve' }).click()]);
    assert.equal((await page.locator('#order-status').innerText()).trim(), 'Awaiting approval');
    assert.match(await page.locator('#approval-preview').innerText(), /If you approve now/);
    await assertNoHorizontalOverflow(page, 'order awaiting approval');
    await screenshot(page, 'approvals-review-phone');

    // Click 2: approve.
    await Promise.all([
      page.waitForURL(`**/portal/orders/${number}?notice=approved`),
      page.locator('#approve-form').getByRole('button', { name: 'Approve' }).click(),
    ]);
    assert.equal(await clicksSoFar(page), 2, 'two clicks from home');
    assert.equal((await page.locator('#order-status').innerText()).trim(), 'Placed');
    assert.match(await page.locator('.timeline').innerText(), /Approved by/);
    assert.equal(await page.locator('#approve-form').count(), 0, 'nothing left to approve');
    await screenshot(page, 'approvals-approved-phone');
    await page.goto('/portal');
    assert.equal(await page.locator(`#awaiting li[data-order="${number}"]`).count(), 0, 'out of the queue');
  } finally {
    await context.close();
  }
});

test('a requester submits for approval; the manager rejects with a comment the requester reads', async () => {
  const requester = await newContext(browser, DESKTOP);
  const manager = await newContext(browser, DESKTOP);
  try {
    const page = await requester.newPage();
    await signIn(page, REQUESTER);
    const recent = page.locator('#recent-orders tr[data-order]').first();
    const original = await recent.getAttribute('data-order');
    await Promise.all([page.waitForURL(`**/portal/reorder/order/${original}`), recent.locator('a.reorder').click()]);
    assert.match(await page.locator('#needs-approval').innerText(), /This order needs approval/);
    const po = page.locator('#po_number');
    if (await po.count()) await po.fill(`E2E-APPROVAL-${Date.now()}`);
    const submit = page.locator('#place-order');
    assert.equal((await submit.innerText()).trim(), 'Submit for approval');
    await screenshot(page, 'approvals-requester-review');
    await Promise.all([page.waitForURL(/\/portal\/orders\/SO-\d+\?placed=1$/), submit.click()]);
    const number = (await page.locator('h1').innerText()).replace('Order ', '').trim();
    assert.match(await page.locator('#placed-banner').innerText(), /waits for approval/);
    assert.equal((await page.locator('#order-status').innerText()).trim(), 'Awaiting approval');
    await screenshot(page, 'approvals-submitted');

    const m = await manager.newPage();
    await signIn(m, MANAGER);
    await m.goto(`/portal/orders/${number}`);
    await m.fill('#ap-reject', 'Please use the framework contract for these');
    await Promise.all([
      m.waitForURL(`**/portal/orders/${number}?notice=approval_rejected`),
      m.locator('#decline-form').getByRole('button', { name: 'Reject' }).click(),
    ]);
    assert.equal((await m.locator('#order-status').innerText()).trim(), 'Cancelled');

    await page.reload();
    assert.equal((await page.locator('#order-status').innerText()).trim(), 'Cancelled');
    assert.match(await page.locator('main').innerText(), /Rejected by .*: Please use the framework contract for these/);
    await screenshot(page, 'approvals-rejected');
  } finally {
    await requester.close();
    await manager.close();
  }
});

test('the approval rules page explains which orders need approval', async () => {
  const context = await newContext(browser, PHONE, MOBILE);
  try {
    const page = await context.newPage();
    await signIn(page, MANAGER);
    await page.goto('/portal/approvals');
    const rules = await page.locator('#rules').innerText();
    assert.match(rules, /Orders over \$10,000\.00 — approved by Any purchasing manager/);
    assert.match(rules, /Orders with Medical \/ Diagnostics — approved by/);
    assert.ok(await page.locator('#add-rule').isVisible(), 'managers add rules');
    await assertNoHorizontalOverflow(page, 'approval rules');
    await screenshot(page, 'approvals-rules-phone');
  } finally {
    await context.close();
  }
});
