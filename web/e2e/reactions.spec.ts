// The business reacts to the user's messages (Graph `type: "reaction"`, sent through the
// simulator as a business's own code sends it): the phone shows the emoji on the message
// it reacts to, not as a bubble; a second reaction replaces the first, an empty one takes
// it back, and one to a message the chat does not hold is a small line. The log's detail
// page shows the user's WhatsApp user id. Photographed at desktop and phone width.

import path from 'node:path';
import { expect, phoneNumber, signIn, test, type ParleyEnv } from './parley';
import type { Locator, Page } from '@playwright/test';

const artifacts = path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts');

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

async function openPhone(page: Page, env: ParleyEnv, msisdn: string): Promise<Locator> {
  await page.goto(`${env.url}/console/phones/${encodeURIComponent(msisdn)}`);
  const phone = page.getByRole('region', { name: `Phone ${msisdn}` });
  await expect(phone).toBeVisible();
  return phone;
}

/** The reaction pill on `bubble` leaves its time and ticks uncovered. */
async function timeUncovered(bubble: Locator) {
  const pill = await bubble.getByTestId('reactions').boundingBox();
  const meta = await bubble.locator('.bubble-meta').boundingBox();
  expect(pill && meta, 'the bubble has a reaction and a time').toBeTruthy();
  if (!pill || !meta) return;
  const overlapX = Math.min(pill.x + pill.width, meta.x + meta.width) - Math.max(pill.x, meta.x);
  const overlapY = Math.min(pill.y + pill.height, meta.y + meta.height) - Math.max(pill.y, meta.y);
  expect(overlapX <= 0 || overlapY <= 0, `the reaction covers the time: ${JSON.stringify({ pill, meta })}`).toBe(true);
}

/** Nothing on the page is wider than the window: no sideways scrolling. */
async function noSidewaysScroll(page: Page) {
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    window: document.documentElement.clientWidth,
  }));
  expect(widths.page, 'the page scrolls sideways').toBeLessThanOrEqual(widths.window);
}

test.beforeEach(async ({ page, env }) => {
  await page.setViewportSize(DESKTOP);
  await signIn(page, env, env.consoleEmail, env.consolePassword);
});

test('a reaction shows on the message it reacts to, is replaced by the next, and taken back by an empty one', async ({ page, env, customer }) => {
  const msisdn = phoneNumber();
  const question = await customer.phoneWrites(msisdn, 'Is the blue jacket back in stock?');
  const size = await customer.phoneWrites(msisdn, 'I would need it in size M 🙏');
  await customer.send({ user: { msisdn }, type: 'text', content: { text: 'It is! We got a new delivery this morning.' } });

  const phone = await openPhone(page, env, msisdn);
  const bubbles = phone.getByTestId('bubble');
  const questionBubble = bubbles.filter({ hasText: 'Is the blue jacket back in stock?' });
  const sizeBubble = bubbles.filter({ hasText: 'I would need it in size M' });
  const answerBubble = bubbles.filter({ hasText: 'We got a new delivery' });
  await expect(answerBubble).toBeVisible();

  // 👍 on the question: on that bubble only, and no bubble of its own.
  await customer.businessReacts(msisdn, question.id, '👍');
  await expect(questionBubble.getByRole('img', { name: 'Business reacted 👍' })).toBeVisible();
  await expect(questionBubble.getByTestId('reactions')).toHaveText('👍');
  await expect(sizeBubble.getByTestId('reactions')).toHaveCount(0);
  await expect(answerBubble.getByTestId('reactions')).toHaveCount(0);
  await expect(bubbles).toHaveCount(3);
  await expect(phone.locator('[data-type="reaction"]')).toHaveCount(0);

  // ❤️ replaces 👍: one emoji on the question.
  await customer.businessReacts(msisdn, question.id, '❤️');
  await expect(questionBubble.getByRole('img', { name: 'Business reacted ❤️' })).toBeVisible();
  await expect(questionBubble.getByRole('img', { name: 'Business reacted 👍' })).toHaveCount(0);
  await expect(questionBubble.getByTestId('reactions')).toHaveText('❤️');

  // Another message gets its own; one to a message this chat does not hold is a line.
  await customer.businessReacts(msisdn, size.id, '🎉');
  await expect(sizeBubble.getByRole('img', { name: 'Business reacted 🎉' })).toBeVisible();
  await expect(questionBubble.getByTestId('reactions')).toHaveText('❤️');
  await customer.businessReacts(msisdn, 'wamid.NOT-IN-THIS-CHAT', '😮');
  await expect(phone.getByTestId('reaction-line')).toHaveText('Business reacted 😮 to a message');
  await expect(bubbles).toHaveCount(3);

  // Photographed with the reactions on: desktop, then phone width.
  await timeUncovered(questionBubble);
  await timeUncovered(sizeBubble);
  await noSidewaysScroll(page);
  await phone.locator('.phone').screenshot({ path: path.join(artifacts, 'reactions-phone-desktop.png') });
  await page.screenshot({ path: path.join(artifacts, 'reactions-desktop.png') });
  await page.setViewportSize(PHONE);
  await expect(questionBubble.getByRole('img', { name: 'Business reacted ❤️' })).toBeVisible();
  await timeUncovered(questionBubble);
  await noSidewaysScroll(page);
  const chat = phone.getByRole('log', { name: 'Messages' });
  expect(await chat.evaluate((el) => el.scrollWidth <= el.clientWidth), 'the chat scrolls sideways').toBe(true);
  await page.screenshot({ path: path.join(artifacts, 'reactions-390.png') });
  await page.setViewportSize(DESKTOP);

  // An empty emoji takes the reaction back; the other message keeps its own.
  await customer.businessReacts(msisdn, question.id, '');
  await expect(questionBubble.getByTestId('reactions')).toHaveCount(0);
  await expect(questionBubble.getByRole('img', { name: /reacted/ })).toHaveCount(0);
  await expect(sizeBubble.getByRole('img', { name: 'Business reacted 🎉' })).toBeVisible();
  await expect(bubbles).toHaveCount(3);

  // Taken back from the message not in the chat too: its line goes.
  await customer.businessReacts(msisdn, 'wamid.NOT-IN-THIS-CHAT', '');
  await expect(phone.getByTestId('reaction-line')).toHaveCount(0);
});

test("the log's detail page shows the user's WhatsApp user id", async ({ page, env, customer }) => {
  const msisdn = phoneNumber();
  await customer.phoneWrites(msisdn, 'Hello, do you deliver on Sundays?');

  // Through the log, as a person finds it: the inbound message, then its details.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Logs' }).click();
  await page.getByLabel('Direction').selectOption('inbound');
  await page.getByLabel('Recipient').fill(msisdn);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  const row = page.locator('[data-testid="log-row"][data-direction="inbound"]').first();
  await expect(row).toContainText('do you deliver on Sundays?');
  await row.getByRole('link').first().click();
  await expect(page.getByRole('heading', { name: /Inbound .* message/ })).toBeVisible();

  // The id the API gives for this message, next to the user's number.
  const umid = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
  const details = await customer.call<{ data: { user: { msisdn: string; channelUserId?: string } }[] }>(
    'GET',
    `/api/v1/subaccounts/${env.subAccountId}/messages/${encodeURIComponent(umid)}`,
  );
  const channelUserId = details.data[0]?.user.channelUserId ?? '';
  expect(channelUserId).toMatch(/^US\.\d{20}$/);
  const facts = page.locator('.fact');
  await expect(facts.filter({ has: page.getByText('User', { exact: true }) })).toContainText(msisdn);
  const idFact = facts.filter({ has: page.getByText('WhatsApp user id', { exact: true }) });
  await expect(idFact.getByTestId('channel-user-id')).toHaveText(channelUserId);
  // It comes right after the number.
  const labels = await page.locator('.fact dt').allTextContents();
  expect(labels.indexOf('WhatsApp user id')).toBe(labels.indexOf('User') + 1);

  await noSidewaysScroll(page);
  await page.screenshot({ path: path.join(artifacts, 'log-detail-user-id-desktop.png'), fullPage: true });
  await page.setViewportSize(PHONE);
  await expect(idFact.getByTestId('channel-user-id')).toBeVisible();
  await noSidewaysScroll(page);
  await page.screenshot({ path: path.join(artifacts, 'log-detail-user-id-390.png'), fullPage: true });
});
