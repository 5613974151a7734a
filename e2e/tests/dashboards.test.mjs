// The seller's dashboards (issue 18 §4): the self-service adoption dashboard for a sales manager on
// a desktop and for a rep on a 390x844 phone — an SVG chart drawn by the server with the table
// behind it, a CSV link, the rep's own book only, nothing wider than the screen, no console error.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DESKTOP, PHONE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot, signIn,
} from './helpers.mjs';

const MANAGER = 'morgan.reyes@meridian-supply.example';
const REP = 'rosa.martinez@meridian-supply.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

function watchProblems(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
  return problems;
}

async function checkAdoption(page) {
  const chart = page.locator('#chart-adoption svg');
  assert.equal(await chart.count(), 1, 'an inline SVG chart');
  assert.equal(await chart.getAttribute('role'), 'img');
  assert.match(await page.locator('#stat-order-share').innerText(), /^[0-9]+\.[0-9]%$/);
  assert.match(await page.locator('#stat-revenue-share').innerText(), /^[0-9]+\.[0-9]%$/);
  assert.equal(await page.locator('#table-adoption-trend tbody tr').count(), 12, 'the table behind the chart: 12 months');
  assert.ok(await page.locator('#table-adoption-accounts tbody tr').count() >= 1, 'accounts');
  const csv = await page.locator('#dashboard-csv').getAttribute('href');
  assert.match(csv, /^\/dashboards\/adoption\.csv\?/);
  // The chart fits its card.
  const box = await chart.boundingBox();
  const card = await page.locator('#dashboard-adoption').boundingBox();
  assert.ok(box.width <= card.width + 0.5, `chart ${box.width}px in a ${card.width}px card`);
}

test('adoption dashboard for a sales manager on a desktop', async () => {
  const context = await newContext(browser, DESKTOP);
  try {
    const page = await context.newPage();
    const problems = watchProblems(page);
    await signIn(page, MANAGER);
    await Promise.all([page.waitForURL('**/dashboards'), page.locator('nav.nav a', { hasText: 'Dashboards' }).click()]);
    assert.ok(await page.locator('#chart-channels svg').count() === 1, 'orders by channel chart');
    await Promise.all([page.waitForURL('**/dashboards/adoption?*'), page.locator('.dash-tabs a', { hasText: 'Self-service adoption' }).click()]);
    assert.match(pathOf(page), /^\/dashboards\/adoption\?/);
    await checkAdoption(page);
    assert.ok(await page.locator('#table-adoption-reps tbody tr').count() >= 2, 'every rep');
    await assertNoHorizontalOverflow(page, 'the adoption dashboard on a desktop');
    await screenshot(page, 'dashboard-adoption-desktop');
    // 24 months.
    await Promise.all([page.waitForURL('**months=24'), page.locator('.dash-scope a', { hasText: '24 months' }).click()]);
    assert.equal(await page.locator('#table-adoption-trend tbody tr').count(), 24);
    assert.deepEqual(problems, [], 'no console errors or failed requests');
  } finally {
    await context.close();
  }
});

test('adoption dashboard for a rep on a 390x844 phone: their book only', async () => {
  const context = await newContext(browser, PHONE);
  try {
    const page = await context.newPage();
    const problems = watchProblems(page);
    await signIn(page, REP);
    await page.goto(new URL('/dashboards/adoption', page.url()).toString());
    await checkAdoption(page);
    assert.match(await page.locator('#dashboard-scope').innerText(), /book/);
    assert.equal(await page.locator('#table-adoption-reps').count(), 1);
    assert.equal(await page.locator('#table-adoption-reps tbody tr').count(), 1, 'the rep alone');
    // Tables become cards on a phone.
    const display = await page.locator('#table-adoption-accounts tbody tr').first().evaluate((el) => getComputedStyle(el).display);
    assert.equal(display, 'grid', 'an account is a card');
    await assertNoHorizontalOverflow(page, 'the adoption dashboard on a phone');
    await screenshot(page, 'dashboard-adoption-phone');
    await page.screenshot({ path: new URL('../screenshots/dashboard-adoption-phone-top.png', import.meta.url).pathname });
    // Orders by channel on the phone too: its wide table scrolls inside its card.
    await page.goto(new URL('/dashboards', page.url()).toString());
    await assertNoHorizontalOverflow(page, 'orders by channel on a phone');
    await screenshot(page, 'dashboard-channels-phone');
    await page.screenshot({ path: new URL('../screenshots/dashboard-channels-phone-top.png', import.meta.url).pathname });
    assert.deepEqual(problems, [], 'no console errors or failed requests');
  } finally {
    await context.close();
  }
});
