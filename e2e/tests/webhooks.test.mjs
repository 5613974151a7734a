// Webhooks, end to end in the demo: the admin adds an endpoint (a receiver this test runs on the
// loopback address, which e2e/run.sh allows), copies its secret, sends a test event, and sees it
// delivered in the endpoint's log — the receiver checks the Standard Webhooks signature with the
// secret, exactly as docs/webhooks.md says a receiver should. Screenshots at desktop and phone width.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { DESKTOP, MOBILE, PHONE, assertNoHorizontalOverflow, launchBrowser, newContext, screenshot, signIn } from './helpers.mjs';

const ADMIN = 'admin@meridian-supply.example';

let browser;
let server;
const received = [];
let secret = '';

/** Verifies a delivery as docs/webhooks.md describes (any signature in the header may match). */
function signatureValid(headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`;
  const expected = Buffer.from(`v1,${createHmac('sha256', key).update(signed).digest('base64')}`);
  return (headers['webhook-signature'] || '').split(' ').some((s) => {
    const given = Buffer.from(s);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

before(async () => {
  browser = await launchBrowser();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ headers: req.headers, body, valid: signatureValid(req.headers, body) });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('received');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

test('an admin adds a webhook endpoint, sends a test event and sees it delivered, signed', async () => {
  const hook = `http://127.0.0.1:${server.address().port}/portico`;
  const context = await newContext(browser, DESKTOP);
  try {
    const page = await context.newPage();
    await signIn(page, ADMIN);
    await page.goto('/admin/staff');
    await Promise.all([page.waitForURL('**/admin/webhooks'), page.getByRole('link', { name: 'Webhooks' }).click()]);
    await page.locator('#wh-url').fill(hook);
    await page.locator('#wh-description').fill('ERP order sync');
    // Orders' events: open the family and tick two types.
    await page.locator('details.event-group summary', { hasText: 'order.*' }).click();
    await page.getByLabel(/order\.placed —/).check();
    await page.getByLabel(/order\.shipped —/).check();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Add endpoint' }).click()]);
    secret = (await page.locator('#new-secret').innerText()).trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    await screenshot(page, 'webhooks-added-desktop');

    await Promise.all([page.waitForURL(/\/admin\/webhooks\/[0-9a-f-]+$/), page.getByRole('link', { name: hook }).click()]);
    await Promise.all([page.waitForURL(/notice=webhook_test_sent/), page.getByRole('button', { name: 'Send a test event' }).click()]);
    // The worker in the demo server delivers it within a second or two.
    for (let i = 0; i < 50 && !received.some((r) => r.headers['webhook-id']); i++) await page.waitForTimeout(200);
    assert.equal(received.length, 1, 'the receiver got the test event');
    assert.ok(received[0].valid, 'its signature verifies with the secret shown once');
    const envelope = JSON.parse(received[0].body);
    assert.equal(envelope.type, 'webhook.test');
    assert.equal(envelope.data.url, hook);

    // The delivery log says so.
    for (let i = 0; i < 20; i++) {
      await page.reload();
      if (await page.locator('.badge-delivered').count()) break;
      await page.waitForTimeout(200);
    }
    const row = page.locator('tr', { hasText: 'webhook.test' });
    await assert.doesNotReject(row.locator('.badge-delivered').waitFor());
    await row.locator('details summary').click();
    assert.match(await row.innerText(), /HTTP 200/);
    assert.match(await row.innerText(), /received/);
    await screenshot(page, 'webhook-endpoint-desktop');
  } finally {
    await context.close();
  }

  // The same page on a phone: the log as cards, nothing wider than the screen.
  const phone = await newContext(browser, PHONE, MOBILE);
  try {
    const page = await phone.newPage();
    await signIn(page, ADMIN);
    await page.goto('/admin/webhooks');
    await assertNoHorizontalOverflow(page, 'webhooks on a phone');
    await page.getByRole('link', { name: hook }).click();
    await page.waitForLoadState('load');
    await assertNoHorizontalOverflow(page, 'a webhook endpoint on a phone');
    await screenshot(page, 'webhook-endpoint-phone');
  } finally {
    await phone.close();
  }
});

test('the demo keeps its mail in the local mailbox, which the admin reads under Sent mail', async () => {
  const context = await newContext(browser, DESKTOP);
  try {
    const page = await context.newPage();
    await signIn(page, ADMIN);
    await page.goto('/admin/staff');
    await Promise.all([page.waitForURL('**/admin/mail'), page.getByRole('link', { name: 'Sent mail' }).click()]);
    assert.match(await page.locator('.flash-warning').innerText(), /No SMTP server is set/);
    // The demo's orders, shipments and invoices were mailed to their buyers and reps.
    for (let i = 0; i < 30 && !(await page.locator('.badge-mail-kept').count()); i++) {
      await page.waitForTimeout(300);
      await page.reload();
    }
    const first = page.locator('table.table tbody tr').first();
    assert.match(await first.locator('.badge').innerText(), /kept/);
    await Promise.all([page.waitForURL(/\/admin\/mail\/[0-9a-f-]+$/), first.locator('a').first().click()]);
    const text = await page.locator('#mail-text').innerText();
    assert.match(text, /^Hello /);
    assert.match(text, /Meridian/);
    await screenshot(page, 'sent-mail-desktop');
  } finally {
    await context.close();
  }
});
