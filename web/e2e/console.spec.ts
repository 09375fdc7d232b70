// The "done when": a template made and approved in the console goes out through
// the API, shows on the phone as WhatsApp draws it, the user taps its quick reply, and the
// answer is in the logs pointing at the template message; an agent cannot reach API keys.

import { expect, phoneNumber, signIn, test } from './parley';

test('a template made in the console reaches the phone, and its quick reply reaches the logs', async ({ page, env, customer }) => {
  const name = `order_ready_${Date.now().toString(36)}`;
  const msisdn = phoneNumber();
  await signIn(page, env, env.consoleEmail, env.consolePassword);

  // Create the template; the preview is the phone's bubble, filled with the samples.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
  await page.getByRole('link', { name: 'New template' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Order Ready');
  await expect(page.getByText('Only lowercase letters, digits and underscores.')).toBeVisible();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Body text').fill('Hi {{1}}, your order *{{2}}* is ready for pickup.');
  await page.getByLabel('Sample for {{1}}').fill('Ana');
  await page.getByLabel('Sample for {{2}}').fill('A-100');
  await page.getByLabel('Footer (optional)').fill('Parley Foods');
  await page.getByRole('button', { name: 'Add quick reply' }).click();
  await page.getByLabel('Button 1 label').fill('Thanks!');
  await page.getByRole('button', { name: 'Add quick reply' }).click();
  await page.getByLabel('Button 2 label').fill('Reschedule');
  const preview = page.getByTestId('template-preview');
  await expect(preview).toContainText('Hi Ana, your order A-100 is ready for pickup.');
  await expect(preview.locator('strong')).toHaveText('A-100');
  await expect(preview.getByRole('button', { name: 'Thanks!' })).toBeVisible();
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect(page.getByText(`Template ${name} was submitted for review.`)).toBeVisible();
  const row = page.locator(`[data-testid="template-row"][data-name="${name}"]`);
  await expect(row).toContainText('PENDING');

  // Approve it in the simulator's review queue.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Simulator' }).click();
  const item = page.locator(`[data-testid="review-item"][data-name="${name}"]`);
  await expect(item).toContainText('PENDING');
  await item.getByRole('button', { name: `Approve ${name}` }).click();
  await expect(item).toContainText('APPROVED');
  await expect.poll(() => customer.templateStatus(name)).toBe('APPROVED');

  // The customer's code sends it, with a payload on the quick reply.
  const { umid } = await customer.send({
    user: { msisdn },
    type: 'template',
    content: {
      template: {
        name,
        language: 'en_US',
        components: [
          { type: 'body', parameters: [{ type: 'text', text: 'Bruno' }, { type: 'text', text: 'B-7' }] },
          { type: 'button', subType: 'quickReply', index: 0, parameters: [{ type: 'payload', payload: 'THANKS' }] },
        ],
      },
    },
  });

  // The phone shows it as WhatsApp does, live: text with bold, footer, buttons, ticks.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Phones' }).click();
  await page.getByRole('link', { name: new RegExp(msisdn.replace('+', '\\+')) }).click();
  const phone = page.getByRole('region', { name: `Phone ${msisdn}` });
  const bubble = phone.locator('[data-testid="bubble"][data-type="template"]');
  await expect(bubble).toContainText('Hi Bruno, your order B-7 is ready for pickup.');
  await expect(bubble.locator('strong')).toHaveText('B-7');
  await expect(bubble.locator('.bubble-footer')).toHaveText('Parley Foods');
  await expect(bubble.getByRole('button', { name: 'Reschedule' })).toBeVisible();
  await expect(bubble.getByRole('img', { name: 'Read' })).toBeVisible();

  // The user taps the quick reply: it appears as the user's message, quoting the template.
  await bubble.getByRole('button', { name: 'Thanks!' }).click();
  const reply = phone.locator('[data-testid="bubble"][data-direction="from_user"]').last();
  await expect(reply).toContainText('Thanks!');
  await expect(reply.locator('.bubble-quote')).toContainText('Hi Bruno');

  // The logs have the inbound answer, pointing at the template message.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Logs' }).click();
  await page.getByLabel('Direction').selectOption('inbound');
  await page.getByLabel('Recipient').fill(msisdn);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  const inbound = page.locator('[data-testid="log-row"][data-direction="inbound"]').first();
  await expect(inbound).toContainText('Thanks!');
  await inbound.getByRole('link').click();
  await expect(page.getByRole('heading', { name: /Inbound .* message/ })).toBeVisible();
  await expect(page.getByTestId('reply-to')).toHaveText(umid);
  await expect(page.getByTestId('log-content')).toContainText('Thanks!');

  // …and the template message's own page has its timeline and its rendered content.
  await page.getByTestId('reply-to').click();
  await expect(page.getByRole('heading', { name: /Outbound .* message/ })).toBeVisible();
  await expect(page.getByTestId('log-content')).toContainText('Hi Bruno, your order B-7 is ready for pickup.');
  await expect(page.getByTestId('timeline-step').first()).toBeVisible();
});

test('an agent cannot open the API keys page nor call its API', async ({ page, browser, env }) => {
  const email = `agent.${Date.now().toString(36)}@parley.local`;
  const password = 'agent-password-1234';
  await signIn(page, env, env.consoleEmail, env.consolePassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  const form = page.getByRole('form', { name: 'Add a user' });
  await form.getByLabel('Name').fill('Agent Smith');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Role').selectOption('agent');
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(page.locator(`[data-testid="user-row"][data-email="${email}"]`)).toContainText('agent');

  const context = await browser.newContext();
  const agent = await context.newPage();
  await signIn(agent, env, email, password);
  const nav = agent.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Phones' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'API keys' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);

  await agent.goto(`${env.url}/console/keys`);
  await expect(agent.getByRole('heading', { name: 'Not allowed' })).toBeVisible();

  // The server says no too, whatever the page shows.
  const list = await agent.request.get(`${env.url}/console/api/keys`);
  expect(list.status()).toBe(403);
  expect(((await list.json()) as { code: number }).code).toBe(1003);
  const session = (await (await agent.request.get(`${env.url}/console/api/session`)).json()) as { csrfToken: string };
  const create = await agent.request.post(`${env.url}/console/api/keys`, {
    headers: { 'X-CSRF-Token': session.csrfToken },
    data: { name: 'sneaky' },
  });
  expect(create.status()).toBe(403);
  await context.close();
});
