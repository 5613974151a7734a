// A buyer's purchasing manager invites a colleague, who sets a password with the one-time link
// (mailed to them, never shown to the manager) and signs in; the link then no longer works.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  DESKTOP, PHONE, assertNoHorizontalOverflow, launchBrowser, navTexts, newContext, pathOf,
  screenshot, signIn, uniqueSuffix,
} from './helpers.mjs';

const NEW_PASSWORD = 'blue tangerine orbit 42';

/** The newest set-password link the demo "mailed" to `email` (printed to its log, see run.sh). */
async function mailedLink(email) {
  const log = process.env.PORTICO_SERVER_LOG;
  assert.ok(log, 'run.sh passes the server log as PORTICO_SERVER_LOG');
  const prefix = `mail to ${email}: set your password at `;
  for (let i = 0; i < 50; i++) {
    const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith(prefix));
    if (lines.length) return lines[lines.length - 1].slice(prefix.length).trim();
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no set-password mail to ${email} in ${log}`);
}

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('manager invites a user who sets a password once and signs in', async () => {
  const suffix = uniqueSuffix();
  const name = `Dana Okafor ${suffix}`;
  const email = `dana.${suffix}@lakesidefamilycl.example`;

  // 1. The purchasing manager invites a buyer.
  const manager = await newContext(browser, DESKTOP);
  let link;
  try {
    const page = await manager.newPage();
    await signIn(page, 'manager@lakesidefamilycl.example');
    await page.locator('nav.nav').getByRole('link', { name: 'Users', exact: true }).click();
    await page.waitForURL('**/portal/users');
    assert.match(await page.locator('h1').innerText(), /^Users of Lakeside Family Clinic/);

    await page.fill('#invite-name', name);
    await page.fill('#invite-email', email);
    await page.selectOption('#invite-role', 'buyer');
    await Promise.all([
      page.waitForLoadState('load'),
      page.getByRole('button', { name: 'Invite user' }).click(),
    ]);
    await page.locator('#link-sent').waitFor();
    assert.equal((await page.locator('h1').innerText()).trim(), 'Invitation sent');
    assert.match(await page.locator('.card').first().innerText(), new RegExp(email.replace(/[.]/g, '\\.')));
    assert.equal(await page.locator('text=/set-password/').count(), 0, 'the inviter is never shown the link');
    // The link goes only to the invitee's mailbox: the demo prints its mails to the server log.
    link = await mailedLink(email);
    assert.match(link, /^https?:\/\/[^/]+\/set-password\/[A-Za-z0-9_-]{20,}$/, 'a set-password link');
    await screenshot(page, 'invite-link-desktop');
    await page.setViewportSize(PHONE);
    await assertNoHorizontalOverflow(page, 'invitation page on a phone');
    await screenshot(page, 'invite-link-phone');
    await page.setViewportSize(DESKTOP);

    // "Done" goes back to the users list, where the new user shows as invited.
    await page.getByRole('link', { name: 'Done' }).click();
    await page.waitForURL('**/portal/users');
    const row = page.locator('tbody tr', { hasText: email });
    assert.equal(await row.count(), 1, 'the invited user is listed');
    assert.match(await row.innerText(), /Invited/);
  } finally {
    await manager.close();
  }

  // 2. The invitee opens the link in a fresh browser and sets a password.
  const invitee = await newContext(browser, DESKTOP);
  try {
    const page = await invitee.newPage();
    const res = await page.goto(link);
    assert.equal(res.status(), 200);
    assert.equal((await page.locator('h1').innerText()).trim(), `Welcome, ${name}`);
    assert.match(await page.locator('main').innerText(), new RegExp(email.replace(/[.]/g, '\\.')));
    await screenshot(page, 'set-password-desktop');
    await page.setViewportSize(PHONE);
    await assertNoHorizontalOverflow(page, 'set-password page on a phone');
    await screenshot(page, 'set-password-phone');
    await page.setViewportSize(DESKTOP);

    await page.fill('#password', NEW_PASSWORD);
    await page.fill('#confirmation', NEW_PASSWORD);
    await Promise.all([
      page.waitForURL('**/login?notice=password_set'),
      page.getByRole('button', { name: 'Set password' }).click(),
    ]);
    assert.match(await page.locator('.flash-ok').innerText(), /Your password is set/);

    // 3. The new user signs in and lands on the portal with a buyer's navigation.
    await signIn(page, email, NEW_PASSWORD);
    assert.equal(pathOf(page), '/portal');
    assert.deepEqual(await navTexts(page), ['Home', 'Catalog', 'Quick order', 'Orders', 'Lists', 'Cart', 'Account']);
    assert.match(await page.locator('h1').innerText(), /Lakeside Family Clinic/);
  } finally {
    await invitee.close();
  }

  // 4. The link worked once: opening it again (in yet another browser) is refused.
  const again = await newContext(browser, DESKTOP);
  try {
    const page = await again.newPage();
    const res = await page.goto(link);
    assert.equal(res.status(), 404);
    assert.equal((await page.locator('h1').innerText()).trim(), 'Link expired or already used');
    assert.equal(await page.locator('#password').count(), 0, 'no password form on a used link');
  } finally {
    await again.close();
  }

  // 5. The manager now sees the user as active.
  const manager2 = await newContext(browser, DESKTOP);
  try {
    const page = await manager2.newPage();
    await signIn(page, 'manager@lakesidefamilycl.example');
    await page.goto('/portal/users');
    const row = page.locator('tbody tr', { hasText: email });
    assert.match(await row.innerText(), /Active/);
  } finally {
    await manager2.close();
  }
});
