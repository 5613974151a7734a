// Finance records a payment for an account and applies it to two of its open invoices; the rest
// stays unapplied; one application is taken off again. Screenshots at desktop width and on a
// 390px phone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PHONE, assertNoHorizontalOverflow, launchBrowser, newContext, pathOf, screenshot, signIn } from './helpers.mjs';

const FINANCE = 'fiona.walsh@meridian-supply.example';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** "$1,234.56" → 123456 (cents). */
function cents(text) {
  const [whole, frac = '00'] = text.replace(/[$,\s]/g, '').split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0').slice(0, 2));
}

function plain(c) {
  return `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
}

test('finance records a payment applied to two invoices', async () => {
  const context = await newContext(browser);
  let paymentPath;
  try {
    const page = await context.newPage();
    await signIn(page, FINANCE);
    // An account with at least two open invoices, from the invoices list.
    await page.goto('/invoices');
    const rows = await page.locator('table.invoices tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        number: tr.getAttribute('data-invoice'),
        account: tr.children[1].innerText.trim(),
        status: tr.querySelector('.badge')?.innerText.trim(),
      })));
    const open = rows.filter((r) => r.status === 'open');
    const counts = new Map();
    for (const r of open) counts.set(r.account, (counts.get(r.account) || 0) + 1);
    const target = open.find((r) => counts.get(r.account) >= 2);
    assert.ok(target, 'the demo has an account with two open invoices');
    await page.goto(`/invoices/${target.number}`);
    const accountNumber = (await page.locator('.kv').first().innerText()).match(/\((A-\d+)\)/)[1];

    // Finance → Payments → Record a payment.
    await page.goto('/finance');
    await Promise.all([page.waitForURL('**/finance/payments/new'), page.locator('#finance-payments').getByRole('link', { name: 'Record a payment' }).click()]);
    await page.fill('#account', accountNumber);
    await Promise.all([page.waitForURL('**/finance/payments/new?**'), page.getByRole('button', { name: 'Continue' }).click()]);
    const invoices = page.locator('table.open-invoices tbody tr');
    assert.ok(await invoices.count() >= 2);
    const first = await invoices.nth(0).getAttribute('data-invoice');
    const second = await invoices.nth(1).getAttribute('data-invoice');
    const firstBalance = cents(await invoices.nth(0).locator("td").nth(2).innerText());
    const secondBalance = cents(await invoices.nth(1).locator("td").nth(2).innerText());
    const part = Math.max(1, Math.floor(secondBalance / 2));
    const total = firstBalance + part + 500; // 5.00 stays unapplied
    await page.fill('#amount', plain(total));
    await page.selectOption('#method', 'wire');
    await page.fill('#reference', 'WIRE-E2E-1');
    await page.fill(`#apply-${first}`, plain(firstBalance));
    await page.fill(`#apply-${second}`, plain(part));
    await screenshot(page, 'finance-payment-form');
    await Promise.all([
      page.waitForURL('**/finance/payments/PAY-*?done=recorded'),
      page.getByRole('button', { name: 'Record payment' }).click(),
    ]);
    paymentPath = new URL(page.url()).pathname;
    assert.equal(cents(await page.locator('#payment-amount').innerText()), total);
    assert.equal(cents(await page.locator('#payment-unapplied').innerText()), 500);
    const applied = await page.locator('#applications tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.getAttribute('data-invoice'), tr.children[2].innerText.trim()]));
    assert.deepEqual(applied.map(([n]) => n).sort(), [first, second].sort());
    await screenshot(page, 'finance-payment-recorded');

    // The first invoice is paid; the second shows the payment and owes the rest.
    await page.goto(`/invoices/${second}`);
    assert.match(await page.locator('#invoice-payments').innerText(), /PAY-/);
    assert.equal(cents(await page.locator('#invoice-due-amount').innerText()), secondBalance - part);
    await page.goto(`/invoices/${first}`);
    assert.equal(cents(await page.locator('#invoice-due-amount').innerText()), 0);

    // The payments list shows it with its unapplied amount.
    await page.goto('/finance/payments');
    const number = paymentPath.split('/').pop();
    assert.match(await page.locator(`tr[data-payment="${number}"]`).innerText(), /\$5\.00/);
    assert.equal(pathOf(page), '/finance/payments');

    // Applied to the wrong invoice: finance takes the second application off (after confirming);
    // the invoice owes it again and the payment has it unapplied.
    await page.goto(paymentPath);
    page.once('dialog', (d) => d.accept());
    await Promise.all([
      page.waitForURL('**/finance/payments/PAY-*?done=unapplied'),
      page.locator(`#applications tr[data-invoice="${second}"]`).getByRole('button', { name: /^Unapply/ }).click(),
    ]);
    assert.equal(cents(await page.locator('#payment-unapplied').innerText()), 500 + part);
    assert.match(await page.locator(`#applications tr[data-invoice="${second}"]`).innerText(), /unapplied/);
    await screenshot(page, 'finance-payment-unapplied');
    await page.goto(`/invoices/${second}`);
    assert.equal(cents(await page.locator('#invoice-due-amount').innerText()), secondBalance);
  } finally {
    await context.close();
  }

  // On a phone.
  const phone = await newContext(browser, PHONE);
  try {
    const page = await phone.newPage();
    await signIn(page, FINANCE);
    await page.goto(paymentPath);
    await assertNoHorizontalOverflow(page, 'payment page');
    await screenshot(page, 'finance-payment-recorded-phone');
    await page.goto('/finance/payments');
    await assertNoHorizontalOverflow(page, 'payments list');
    await screenshot(page, 'finance-payments-phone');
  } finally {
    await phone.close();
  }
});

test('buyer finance pays an open invoice online through the test provider', async () => {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await signIn(page, 'finance@lakesidefamilycl.example');
    await page.goto('/portal/invoices');
    const box = page.locator('#pay-online input[type="checkbox"][name="invoice"]').first();
    assert.ok(await box.count() > 0, 'the demo account has an open invoice');
    const number = await box.getAttribute('value');
    await box.check();
    await Promise.all([page.waitForURL('**/test-provider/checkout?**'), page.getByRole('button', { name: 'Pay online' }).click()]);
    const pay = page.locator('#provider-pay');
    assert.match(await pay.innerText(), /^Pay \$[\d,]+\.\d\d$/);
    await screenshot(page, 'test-provider-checkout');
    await Promise.all([page.waitForURL('**/portal/payments?paid=tp_*'), pay.click()]);
    const row = page.locator('table.payments tbody tr').first();
    assert.match(await row.innerText(), /Online/);
    await Promise.all([page.waitForURL('**/portal/payments/PAY-*'), row.getByRole('link').first().click()]);
    assert.deepEqual(await page.locator('#applications tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-invoice'))), [number]);
    assert.equal(cents(await page.locator('#payment-unapplied').innerText()), 0);
    await screenshot(page, 'buyer-paid-online');
    await page.goto(`/portal/invoices/${number}`);
    assert.equal(cents(await page.locator('#invoice-due-amount').innerText()), 0);
  } finally {
    await context.close();
  }
});
