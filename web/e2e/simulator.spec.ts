// What the simulator's controls do, seen where a user looks: a fault set on the Simulator
// page fails the next message sent through the API, with that error in the log; the log's
// export gives a file to download; a phone that blocks the business shows it, and can
// unblock it again. Blocking lowers the number's quality, so it runs last.

import { gunzipSync } from 'node:zlib';
import { expect, phoneNumber, signIn, test, type Customer } from './parley';
import type { Page } from '@playwright/test';

const NO_FAULTS = { failurePercent: 0, errorCode: 131000, extraLatencyMs: 0 };

test.beforeEach(async ({ page, env }) => {
  await signIn(page, env, env.consoleEmail, env.consolePassword);
});

/** The log filtered to one phone's messages. */
async function logsOf(page: Page, msisdn: string, direction?: 'outbound' | 'inbound') {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Logs' }).click();
  if (direction) await page.getByLabel('Direction').selectOption(direction);
  await page.getByLabel('Recipient').fill(msisdn);
  await page.getByRole('button', { name: 'Apply filters' }).click();
}

async function conversation(customer: Customer, msisdn: string, text: string) {
  await customer.phoneWrites(msisdn, 'Hello?');
  return customer.send({ user: { msisdn }, type: 'text', content: { text } });
}

test('a fault set in the simulator fails the next send, and the log says why', async ({ page, customer }) => {
  const msisdn = phoneNumber();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Simulator' }).click();
  const faults = page.getByRole('form', { name: 'Faults' });
  try {
    // The form checks as the server does: whole percentages only.
    await faults.getByLabel('Messages failing (%)').fill('12.5');
    await expect(faults.getByText('A whole number from 0 to 100')).toBeVisible();
    await expect(faults.getByRole('button', { name: 'Save faults' })).toBeDisabled();

    await faults.getByLabel('Messages failing (%)').fill('100');
    await faults.getByLabel('With Meta error').selectOption('131026');
    await faults.getByRole('button', { name: 'Save faults' }).click();
    await expect(page.getByText('Faults saved.')).toBeVisible();
    await expect(page.getByRole('region', { name: 'Fault injection' })).toContainText('Injecting');
    await expect.poll(() => customer.call<typeof NO_FAULTS>('GET', '/sim/api/faults')).toEqual({
      failurePercent: 100,
      errorCode: 131026,
      extraLatencyMs: 0,
    });

    const { umid } = await conversation(customer, msisdn, 'Your table is booked for 8 pm.');

    // The log: undelivered, with 8x8's code for Meta's 131026.
    await logsOf(page, msisdn, 'outbound');
    const row = page.locator(`[data-testid="log-row"][data-umid="${umid}"]`);
    await expect(row).toContainText('undelivered');
    await expect(row).toContainText('1018');
    await row.getByRole('link').first().click();
    await expect(page.getByRole('heading', { name: /Outbound .* message/ })).toContainText('undelivered');
    await expect(page.getByTestId('error-code').first()).toHaveText('1018');
    await expect(page.getByRole('region', { name: 'Status timeline' })).toContainText('Meta 131026');
    // Oldest first: from queued to the failure (sent may or may not come between).
    await expect(page.getByTestId('timeline-step').first()).toContainText('queued');
    await expect(page.getByTestId('timeline-step').last()).toContainText('undelivered');

    // Cleared on the page, the next message goes through.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Simulator' }).click();
    await faults.getByRole('button', { name: 'Clear' }).click();
    await faults.getByRole('button', { name: 'Save faults' }).click();
    await expect(page.getByText('Faults saved.')).toBeVisible();
    await expect(page.getByRole('region', { name: 'Fault injection' })).not.toContainText('Injecting');
    const next = await customer.send({ user: { msisdn }, type: 'text', content: { text: 'See you then!' } });
    await logsOf(page, msisdn, 'outbound');
    await expect(page.locator(`[data-testid="log-row"][data-umid="${next.umid}"] .pill`)).toHaveText(/^(sent|delivered|read)$/);
  } finally {
    await customer.call('PUT', '/sim/api/faults', NO_FAULTS);
  }
});

test("the log's export gives a CSV of what the filters select", async ({ page, customer }) => {
  const msisdn = phoneNumber();
  const { umid } = await conversation(customer, msisdn, 'Your receipt is attached.');
  await logsOf(page, msisdn);
  await expect(page.locator(`[data-testid="log-row"][data-umid="${umid}"]`)).toBeVisible();

  await page.getByRole('button', { name: 'Export…' }).click();
  const panel = page.getByRole('region', { name: 'Export', exact: true });
  await expect(panel).toContainText(`with ${msisdn}`);
  await panel.getByRole('button', { name: 'Export messages' }).click();
  const link = panel.getByTestId('export-link');
  await expect(link).toBeVisible();
  await expect(panel).toContainText('The link works until');

  // The file: gzip CSV with this phone's two messages (the number masked by default).
  const href = await link.getAttribute('href');
  expect(href).toBeTruthy();
  const file = await page.request.get(href ?? '');
  expect(file.status()).toBe(200);
  const csv = gunzipSync(await file.body()).toString('utf8');
  const lines = csv.trim().split('\n');
  expect(lines[0]).toContain('umid,subAccountId');
  expect(lines).toHaveLength(3);
  expect(csv).toContain(umid);

  // Filters the export cannot apply are named, not silently dropped.
  await page.getByLabel('Direction').selectOption('inbound');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(panel).toContainText('The export does not filter by direction');
});

test('a phone that blocks the business shows it, and unblocks it', async ({ page, env, customer }) => {
  const msisdn = phoneNumber();
  await conversation(customer, msisdn, 'Thanks for your order!');
  await page.goto(`${env.url}/console/phones/${encodeURIComponent(msisdn)}`);
  const phone = page.getByRole('region', { name: `Phone ${msisdn}` });
  const entry = page.getByRole('complementary', { name: 'Simulated phones' }).getByRole('link', { name: new RegExp(msisdn.replace('+', '\\+')) });
  await expect(entry).toBeVisible();
  await expect(entry.getByTestId('blocked-badge')).toHaveCount(0);

  await phone.getByRole('button', { name: 'Chat options' }).click();
  await expect(phone.getByRole('menuitem', { name: 'Unblock business', exact: true })).toHaveCount(0);
  await phone.getByRole('menuitem', { name: 'Block business', exact: true }).click();
  await expect(phone.getByRole('status')).toContainText('You blocked');
  await expect(phone.getByTestId('blocked-notice')).toBeVisible();
  await expect(entry.getByTestId('blocked-badge')).toHaveText('Blocked');

  // The menu now offers the way back.
  await phone.getByRole('button', { name: 'Chat options' }).click();
  await expect(phone.getByRole('menuitem', { name: 'Block business', exact: true })).toHaveCount(0);
  await phone.getByRole('menuitem', { name: 'Unblock business', exact: true }).click();
  await expect(phone.getByRole('status')).toContainText('You unblocked');
  await expect(phone.getByTestId('blocked-notice')).toHaveCount(0);
  await expect(entry.getByTestId('blocked-badge')).toHaveCount(0);
  const phones = await customer.call<{ phones: { msisdn: string; blocked: boolean }[] }>('GET', '/sim/api/phones');
  expect(phones.phones.find((p) => p.msisdn === msisdn)?.blocked).toBe(false);
});
