// A seller from an empty database (issue 16 §5), end to end: this test starts its own
// `portico serve` on a fresh SQLite file (not run.sh's demo), creates the administrator with
// `portico user create-admin`, and then does everything in the browser — warehouse, categories,
// products with stock, a customer catalog with a rule and an assignment, an account group, price
// lists and a contract, an account with a second ship-to, a webhook endpoint pointing at a receiver
// this test runs, and an invited buyer who sets a password from the link on the Sent mail page and
// places an order. The order arrives as a signed `order.placed` webhook and as an e-mail. The
// empty states and the new pages are saved as screenshots at desktop and phone width.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DESKTOP, PHONE, assertNoHorizontalOverflow, launchBrowser, pathOf, screenshot } from './helpers.mjs';

const BIN = process.env.PORTICO_BIN;
const ADMIN = 'nora@new-seller.example';
const ADMIN_PASSWORD = 'copper kettle meadow 81';
const BUYER = 'bo.buyer@acme-builders.example';
const BUYER_PASSWORD = 'granite harbour lantern 7';

let browser;
let server; // the `portico serve` process
let baseUrl;
let workDir;
let receiver;
const received = [];
let secret = '';
// Shared by the steps below, in order.
let accountNumber = '';
let accountPath = '';
let inviteLink = '';
let orderNumber = '';

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

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

async function newCtx(viewport = DESKTOP) {
  const context = await browser.newContext({ baseURL: baseUrl, viewport });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  return context;
}

async function signIn(page, email, password) {
  await page.goto('/login');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/login', { waitUntil: 'load' }),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

/** Submits a form by its button and waits for the next page. */
async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

/** Desktop and phone screenshots of the page as it is; nothing may be wider than the phone. */
async function shots(page, name) {
  await screenshot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  await assertNoHorizontalOverflow(page, `${name} on a phone`);
  await screenshot(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

before(async () => {
  assert.ok(BIN, 'run.sh passes PORTICO_BIN');
  browser = await launchBrowser();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ headers: req.headers, body, valid: signatureValid(req.headers, body) });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));

  // `portico serve` on an empty database.
  workDir = mkdtempSync(join(tmpdir(), 'portico-setup-'));
  const db = `sqlite://${join(workDir, 'seller.db')}`;
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const log = openSync(join(process.env.PORTICO_SERVER_LOG ? join(process.env.PORTICO_SERVER_LOG, '..') : workDir, 'seller-setup-server.log'), 'w');
  server = spawn(BIN, ['serve', '--database-url', db, '--bind', `127.0.0.1:${port}`], {
    cwd: workDir,
    env: {
      ...process.env,
      PORTICO_WEBHOOKS_ALLOW_NETWORKS: '127.0.0.1/32',
      // No SMTP server in this trial: the admin reads the invitation's link on Sent mail.
      PORTICO_MAILBOX_SHOWS_LINKS: 'true',
    },
    stdio: ['ignore', log, log],
  });
  let up = false;
  for (let i = 0; i < 150 && !up; i++) {
    assert.equal(server.exitCode, null, 'portico serve exited early; see test-results/seller-setup-server.log');
    up = await fetch(`${baseUrl}/healthz`).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(up, `${baseUrl}/healthz answers`);

  // The first administrator, from the command line, while the server runs.
  const created = spawnSync(BIN, ['user', 'create-admin', '--database-url', db, '--email', ADMIN, '--name', 'Nora Admin'], {
    cwd: workDir,
    env: { ...process.env, PORTICO_ADMIN_PASSWORD: ADMIN_PASSWORD },
    encoding: 'utf8',
  });
  assert.equal(created.status, 0, `create-admin: ${created.stderr}${created.stdout}`);
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => { server.once('exit', resolve); setTimeout(resolve, 5000); });
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('seller setup from an empty database', () => {
  test('the admin is told what to do first, then adds a warehouse, categories and products with stock', async () => {
    const context = await newCtx();
    try {
      const page = await context.newPage();
      await signIn(page, ADMIN, ADMIN_PASSWORD);
      assert.equal(pathOf(page), '/admin/accounts');
      const steps = page.locator('#getting-started li');
      assert.equal(await steps.count(), 9, 'the getting-started checklist');
      assert.equal(await page.locator('#getting-started li.done').count(), 0, 'nothing is done yet');
      await shots(page, 'setup-getting-started');

      // 0. The company's name and address, from the checklist's first step.
      await Promise.all([page.waitForURL('**/admin/company'), steps.first().locator('a').click()]);
      await page.fill('#co-name', 'Harbor Tools & Safety');
      await page.fill('#co-address', '12 Pier St\nSeattle, WA 98101');
      await submit(page, page.getByRole('button', { name: 'Save' }));
      assert.equal(pathOf(page), '/admin/company?notice=company_saved');
      await shots(page, 'setup-company');
      await page.goto('/admin/accounts');
      assert.equal(await page.locator('#getting-started li.done').count(), 1, 'the company is done');

      // 1. A warehouse, from the checklist's next step.
      await Promise.all([page.waitForURL('**/admin/warehouses'), steps.nth(1).locator('a').click()]);
      assert.match(await page.locator('[data-empty="warehouses"]').innerText(), /No warehouses yet/);
      await shots(page, 'setup-warehouses-empty');
      await page.fill('#nw-code', 'MAIN');
      await page.fill('#nw-name', 'Main warehouse');
      await submit(page, page.getByRole('button', { name: 'Add warehouse' }));
      assert.equal(pathOf(page), '/admin/warehouses?notice=warehouse_created');
      // The same code again is refused next to the field, the input kept.
      await page.fill('#nw-code', 'main');
      await page.fill('#nw-name', 'Second main');
      await submit(page, page.getByRole('button', { name: 'Add warehouse' }));
      assert.match(await page.locator('#nw-code-error').innerText(), /already exists/);
      assert.equal(await page.inputValue('#nw-name'), 'Second main');
      await shots(page, 'setup-warehouse-refused');

      // 2. Categories.
      for (const name of ['Safety', 'Tools']) {
        await page.goto('/admin/categories');
        await page.fill('#nc-name', name);
        await submit(page, page.getByRole('button', { name: 'Create category' }));
      }

      // 3. Products: the empty list says what comes first.
      await page.goto('/admin/products');
      assert.match(await page.locator('[data-empty="products"]').innerText(), /No products yet/);
      await shots(page, 'setup-products-empty');
      for (const [sku, name, category] of [['HAT-100', 'Hard hat, white', 'Safety'], ['HAM-200', 'Claw hammer', 'Tools']]) {
        await page.goto('/admin/products');
        await Promise.all([page.waitForURL('**/admin/products/new'), page.getByRole('link', { name: 'New product' }).click()]);
        await page.fill('#sku', sku);
        await page.fill('#name', name);
        await page.selectOption('#category', category);
        if (sku === 'HAT-100') await shots(page, 'setup-product-new');
        await submit(page, page.getByRole('button', { name: 'Create product' }));
        assert.equal(pathOf(page), `/admin/products/${sku}?notice=product_created`);
        await page.selectOption('#warehouse', 'MAIN');
        await page.fill('#delta', '40');
        await page.fill('#reason', 'Opening count');
        await submit(page, page.getByRole('button', { name: 'Adjust stock' }));
        assert.match(await page.locator('main').innerText(), /40/, 'stock on hand');
        assert.match(pathOf(page), new RegExp(`^/admin/products/${sku}\\?notice=saved`));
      }
    } finally {
      await context.close();
    }
  });

  test('the admin creates an account group, a catalog of one category for it, price lists, an account and a contract', async () => {
    const context = await newCtx();
    try {
      const page = await context.newPage();
      await signIn(page, ADMIN, ADMIN_PASSWORD);

      // 4. An account group.
      await page.goto('/admin/account-groups');
      assert.match(await page.locator('[data-empty="groups"]').innerText(), /No account groups yet/);
      await shots(page, 'setup-groups-empty');
      await page.fill('#ng-name', 'Contractors');
      await submit(page, page.getByRole('button', { name: 'Create group' }));
      assert.equal(pathOf(page), '/admin/account-groups?notice=group_created');

      // 5. A customer catalog: the Safety category, for the Contractors group.
      await page.goto('/admin/catalogs');
      assert.match(await page.locator('[data-empty="catalogs"]').innerText(), /buyers see no products/);
      await shots(page, 'setup-catalogs-empty');
      await page.fill('#nk-name', 'Contractor range');
      await submit(page, page.getByRole('button', { name: 'Create catalog' }));
      assert.match(pathOf(page), /^\/admin\/catalogs\/[^/?]+\?notice=catalog_created$/);
      assert.ok(await page.locator('[data-hint="empty-catalog"]').isVisible(), 'an empty catalog says so');
      // A SKU that does not exist is refused next to its field.
      const productRule = page.locator('form[data-form="product-rule"]');
      await productRule.locator('#rp-target').fill('NOPE-1');
      await submit(page, productRule.getByRole('button', { name: 'Add rule' }));
      assert.match(await page.locator('#rp-target-error').innerText(), /No product has the SKU “NOPE-1”/);
      assert.equal(await page.inputValue('#rp-target'), 'NOPE-1');
      const categoryRule = page.locator('form[data-form="category-rule"]');
      await categoryRule.locator('#rc-target').selectOption({ label: 'Safety' });
      await submit(page, categoryRule.getByRole('button', { name: 'Add rule' }));
      assert.match(pathOf(page), /notice=catalog_rule_added$/);
      const assignGroup = page.locator('form[data-form="assign-group"]');
      await assignGroup.locator('#as-group').selectOption({ label: 'Contractors' });
      await submit(page, assignGroup.getByRole('button', { name: 'Assign to group' }));
      assert.match(pathOf(page), /notice=catalog_assigned$/);
      assert.match(await page.locator('#rules').innerText(), /Include category\s+Safety/);
      assert.match(await page.locator('#assignments').innerText(), /Group: Contractors/);
      assert.match(await page.locator('main').innerText(), /1 product\(s\) in this catalog/);
      await shots(page, 'setup-catalog');

      // 6. Price lists: a base list, and a list for the group.
      await page.goto('/admin/pricing');
      assert.match(await page.locator('[data-empty="price-lists"]').innerText(), /No price lists yet/);
      await shots(page, 'setup-pricing-empty');
      await page.fill('#nl-code', 'BASE');
      await page.fill('#nl-name', 'List prices');
      await page.check('input[name="base"]');
      await submit(page, page.getByRole('button', { name: 'Create price list' }));
      assert.equal(pathOf(page), '/admin/pricing/lists/BASE?notice=price_list_created');
      await page.fill('#pl-lines', 'HAT-100, 1, 25.00\nHAM-200, 1, 18.00');
      await submit(page, page.getByRole('button', { name: 'Set these prices' }));
      await page.goto('/admin/pricing');
      await page.fill('#nl-code', 'CONTRACTORS');
      await page.fill('#nl-name', 'Contractor prices');
      await page.fill('#nl-priority', '10');
      await submit(page, page.getByRole('button', { name: 'Create price list' }));
      await page.fill('#pl-lines', 'HAT-100, 1, 22.00');
      await submit(page, page.getByRole('button', { name: 'Set these prices' }));
      const assignList = page.locator('form[data-form="assign-group"]');
      await assignList.locator('#pa-group').selectOption({ label: 'Contractors' });
      await submit(page, assignList.getByRole('button', { name: 'Assign to group' }));
      assert.match(await page.locator('dl.kv').innerText(), /Contractors/);
      await shots(page, 'setup-price-list');

      // 7. An account in the group, with its first ship-to from the billing address, and a second.
      await page.goto('/admin/accounts/new');
      await page.fill('#name', 'Acme Builders');
      await page.selectOption('#status', 'active');
      await page.selectOption('#ownership_mode', 'self_service');
      await page.selectOption('#group', { label: 'Contractors' });
      await page.fill('#credit_limit', '10000');
      await page.fill('#bill_line1', '1 Main St');
      await page.fill('#bill_city', 'Springfield');
      await page.fill('#bill_region', 'IL');
      await page.fill('#bill_postal_code', '62701');
      await shots(page, 'setup-account-new');
      await submit(page, page.getByRole('button', { name: 'Create account' }));
      assert.match(pathOf(page), /^\/accounts\/[^/?]+\?notice=saved$/);
      accountPath = new URL(page.url()).pathname;
      accountNumber = (await page.locator('h1 small').innerText()).trim();
      assert.match(accountNumber, /^A-\d+$/);
      await page.locator('summary', { hasText: 'Add a ship-to location' }).click();
      await page.fill('#st-label', 'Site office');
      await page.fill('#st-line1', '9 Quarry Rd');
      await page.fill('#st-city', 'Springfield');
      await page.fill('#st-postal', '62702');
      await submit(page, page.getByRole('button', { name: 'Add location' }));
      assert.match(await page.locator('main').innerText(), /Site office/);

      // 8. A contract for the account.
      await page.goto('/admin/pricing');
      await page.fill('#nk-number', 'C-100');
      await page.fill('#nk-account', accountNumber);
      await submit(page, page.getByRole('button', { name: 'Create contract' }));
      assert.match(pathOf(page), /^\/admin\/pricing\/contracts\/C-100/);
      await page.locator('textarea[name="lines"]').fill('HAT-100, 1, 20.00');
      await submit(page, page.getByRole('button', { name: /Save/ }).first());
      assert.match(await page.locator('main').innerText(), /20\.00/);
    } finally {
      await context.close();
    }
  });

  test('the admin adds a webhook endpoint and invites a buyer, whose link is on the Sent mail page', async () => {
    const context = await newCtx();
    try {
      const page = await context.newPage();
      await signIn(page, ADMIN, ADMIN_PASSWORD);
      // 9. A webhook endpoint for order.placed, pointing at this test's receiver.
      const hook = `http://127.0.0.1:${receiver.address().port}/erp`;
      await page.goto('/admin/webhooks');
      await page.locator('#wh-url').fill(hook);
      await page.locator('details.event-group summary', { hasText: 'order.*' }).click();
      await page.getByLabel(/order\.placed —/).check();
      await submit(page, page.getByRole('button', { name: 'Add endpoint' }));
      secret = (await page.locator('#new-secret').innerText()).trim();
      assert.match(secret, /^whsec_/);

      // 10. Invite the buyer from the account's page.
      await page.goto(accountPath);
      await page.locator('summary', { hasText: 'Invite a user' }).click();
      await page.fill('#invite-name', 'Bo Buyer');
      await page.fill('#invite-email', BUYER);
      await page.selectOption('#invite-role', 'manager');
      await submit(page, page.getByRole('button', { name: 'Invite user' }));
      assert.equal((await page.locator('h1').innerText()).trim(), 'Invitation sent');

      // 11. The invitation on Sent mail (no SMTP server: kept in the local mailbox).
      await page.goto('/admin/mail');
      let row = page.locator('table.table tbody tr', { hasText: BUYER });
      for (let i = 0; i < 50 && !(await row.locator('a', { hasText: /invited/ }).count()); i++) {
        await page.waitForTimeout(300);
        await page.reload();
        row = page.locator('table.table tbody tr', { hasText: BUYER });
      }
      await Promise.all([page.waitForURL(/\/admin\/mail\/[0-9a-f-]+$/), row.locator('a', { hasText: /invited/ }).first().click()]);
      const text = await page.locator('#mail-text').innerText();
      const link = text.match(/https?:\/\/\S+\/set-password\/[A-Za-z0-9_-]{20,}/);
      assert.ok(link, `the invitation carries its link: ${text}`);
      inviteLink = link[0];
      await shots(page, 'setup-sent-mail-invitation');
    } finally {
      await context.close();
    }
  });

  test('the invited buyer sets a password, sees only their catalog at their price, and places an order', async () => {
    const context = await newCtx();
    try {
      const page = await context.newPage();
      await page.goto(inviteLink);
      await page.fill('#password', BUYER_PASSWORD);
      await page.fill('#confirmation', BUYER_PASSWORD);
      await Promise.all([page.waitForURL('**/login?notice=password_set'), page.getByRole('button', { name: 'Set password' }).click()]);
      await signIn(page, BUYER, BUYER_PASSWORD);
      assert.equal(pathOf(page), '/portal');

      await page.goto('/portal/catalog');
      const catalog = await page.locator('main').innerText();
      assert.match(catalog, /HAT-100/, 'the Safety category is in the group catalog');
      assert.doesNotMatch(catalog, /HAM-200/, 'the Tools category is not');
      assert.match(catalog, /\$20\.00/, 'at the contract price');
      await shots(page, 'setup-buyer-catalog');

      await page.goto('/portal/quick-order');
      await page.fill('#qo-lines', 'HAT-100 2');
      await page.locator('form', { has: page.locator('#qo-lines') }).getByRole('button', { name: 'Add to cart' }).click();
      await page.locator('#qo-summary').waitFor();
      await screenshot(page, 'setup-buyer-quick-order-desktop');
      await page.goto('/portal/checkout');
      await screenshot(page, 'setup-buyer-checkout-desktop');
      assert.equal(await page.locator('.flash-error').count(), 0, 'nothing blocks the checkout');
      await Promise.all([
        page.waitForURL((u) => /^\/portal\/orders\/SO-\d+$/.test(u.pathname), { waitUntil: 'load' }),
        page.locator('#place-order').click(),
      ]);
      orderNumber = new URL(page.url()).pathname.split('/').pop();
      assert.equal((await page.locator('#order-status').innerText()).trim(), 'Placed');
      await shots(page, 'setup-buyer-order');
    } finally {
      await context.close();
    }
  });

  test('the order arrives as a signed order.placed webhook and as an e-mail on Sent mail', async () => {
    for (let i = 0; i < 75 && !received.some((r) => r.body.includes('"order.placed"')); i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const delivery = received.find((r) => r.body.includes('"order.placed"'));
    assert.ok(delivery, `the receiver got order.placed (got ${received.length} deliveries)`);
    assert.ok(delivery.valid, 'its Standard Webhooks signature verifies with the secret');
    const envelope = JSON.parse(delivery.body);
    assert.equal(envelope.type, 'order.placed');
    assert.equal(envelope.data.number, orderNumber);

    const context = await newCtx();
    try {
      const page = await context.newPage();
      await signIn(page, ADMIN, ADMIN_PASSWORD);
      await page.goto('/admin/mail');
      const subject = `Order ${orderNumber} received`;
      for (let i = 0; i < 50 && !(await page.locator('a', { hasText: subject }).count()); i++) {
        await page.waitForTimeout(300);
        await page.reload();
      }
      const row = page.locator('table.table tbody tr', { hasText: subject });
      assert.ok(await row.count() >= 1, `${subject} is on Sent mail`);
      assert.match(await row.first().innerText(), new RegExp(BUYER.replace(/[.]/g, '\\.')));
      await shots(page, 'setup-sent-mail-order');
      // The mail is signed by the company the admin named.
      await Promise.all([page.waitForURL(/\/admin\/mail\/[0-9a-f-]+$/), row.first().locator('a', { hasText: subject }).first().click()]);
      assert.match(await page.locator('#mail-text').innerText(), /Harbor Tools & Safety\n12 Pier St\nSeattle, WA 98101/);
      // Every step is done: the checklist is gone.
      await page.goto('/admin/accounts');
      assert.equal(await page.locator('#getting-started').count(), 0);
    } finally {
      await context.close();
    }
  });
});
