// The "done when": a template made and approved in the console goes out through
// the API, shows on the phone as WhatsApp draws it, the user taps its quick reply, and the
// answer is in the logs pointing at the template message; an agent cannot reach API keys.
// Also: authentication and offer-code templates made in the form, their codes copied on the
// phone; the narrow screen's navigation drawer by keyboard.

import { addUser, expect, phoneNumber, picture, reviewItem, signIn, submitForReview, test } from './parley';

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
  await expect(await submitForReview(page, name)).toContainText('PENDING');

  // Approve it in the simulator's review queue.
  const item = await reviewItem(page, name);
  await expect(item).toContainText('PENDING');
  await item.getByRole('button', { name: `Approve ${name}` }).click();
  await expect(item).toContainText('APPROVED');
  await expect.poll(() => customer.templateStatus(name)).toBe('APPROVED');

  // The customer's code sends it, with a payload on the quick reply.
  const { umid } = await customer.sendTemplate(msisdn, name, [
    { type: 'body', parameters: [{ type: 'text', text: 'Bruno' }, { type: 'text', text: 'B-7' }] },
    { type: 'button', subType: 'quickReply', index: 0, parameters: [{ type: 'payload', payload: 'THANKS' }] },
  ]);

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
  // The row says it answers a message, and links to it.
  await expect(inbound.getByRole('link', { name: '↩ reply' })).toHaveAttribute('href', new RegExp(`/logs/[^/]+/${umid}`));
  await inbound.getByRole('link').first().click();
  await expect(page.getByRole('heading', { name: /Inbound .* message/ })).toBeVisible();
  await expect(page.getByTestId('reply-to')).toHaveText(umid);
  await expect(page.getByTestId('log-content')).toContainText('Thanks!');
  // The answer's bubble quotes the template it answers, as the phone showed it.
  await expect(page.getByTestId('log-content').locator('.bubble-quote')).toContainText('Hi Bruno');

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
  await addUser(page, { name: 'Agent Smith', email, role: 'agent', password });
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

test('a carousel template made in the console, previewed card by card', async ({ page, env, customer, browser }) => {
  const name = `carousel_${Date.now().toString(36)}`;
  const pictures = [
    await customer.upload('walker-1.png', 'image/png', await picture(browser, 'Walker W1', 'Light and quick', 160)),
    await customer.upload('walker-2.png', 'image/png', await picture(browser, 'Walker W2', 'Made for hills', 20)),
  ];
  await signIn(page, env, env.consoleEmail, env.consolePassword);
  await page.goto(`${env.url}/console/templates/new`);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Category', { exact: true }).selectOption('UTILITY');
  await page.getByRole('radio', { name: /Carousel/ }).check();
  // A carousel is marketing: choosing one sets it.
  await expect(page.getByLabel('Category', { exact: true })).toHaveValue('MARKETING');
  await expect(page.getByLabel('Footer (optional)')).toHaveCount(0);
  await page.getByLabel('Body text').fill('Hi {{1}}, two walkers for your next trip:');
  await page.getByLabel('Sample for {{1}}', { exact: true }).fill('Ana');

  const cards: [string, string][] = [
    ['*Walker W1*: light and quick, for {{1}}.', 'city walks'],
    ['*Walker W2*: made for hills.', ''],
  ];
  for (const [i, [text, sample]] of cards.entries()) {
    const card = page.getByRole('listitem', { name: `Card ${i + 1}`, exact: true });
    await card.getByLabel(`Card ${i + 1} sample image URL`).fill(pictures[i] ?? '');
    await card.getByLabel(`Card ${i + 1} text`).fill(text);
    if (sample) await card.getByLabel(`Sample for {{1}} in card ${i + 1}`).fill(sample);
    await card.getByLabel(`Card ${i + 1} button 1 label`).fill('Not for me');
    await card.getByRole('button', { name: `Add website button to card ${i + 1}` }).click();
    await card.getByLabel(`Card ${i + 1} button 2 label`).fill('Details');
    await card.getByLabel(`Card ${i + 1} button 2 URL`).fill(`https://parley.example/walkers/w${i + 1}`);
  }

  // A third card comes laid out as the second; the form wants the same buttons on every card.
  await page.getByRole('button', { name: 'Add card' }).click();
  const third = page.getByRole('listitem', { name: 'Card 3', exact: true });
  await expect(third.getByLabel('Card 3 button 2 label')).toHaveValue('Details');
  await third.getByRole('button', { name: 'Remove card 3 button 2' }).click();
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect(third.getByText('Every card needs the same buttons as card 1')).toBeVisible();
  await page.getByRole('button', { name: 'Remove card 3', exact: true }).click();

  // The preview is the phone's carousel: the body, then a card per card, pictures included.
  const preview = page.getByTestId('template-preview');
  await expect(preview).toContainText('Hi Ana, two walkers for your next trip:');
  const previewCards = preview.getByRole('list', { name: 'Carousel' }).getByRole('listitem');
  await expect(previewCards).toHaveCount(2);
  await expect(previewCards.first()).toContainText('Walker W1: light and quick, for city walks.');
  await expect(previewCards.first().locator('strong')).toHaveText('Walker W1');
  await expect(previewCards.last().getByRole('button', { name: 'Details' })).toBeVisible();
  await expect
    .poll(() => preview.locator('img').evaluateAll((imgs) => imgs.length === 2 && imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0)))
    .toBe(true);

  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect(page.getByText(`Template ${name} was submitted for review.`)).toBeVisible();
  const row = page.locator(`[data-testid="template-row"][data-name="${name}"]`);
  await expect(row).toContainText('PENDING');
  await expect(row).toContainText('Marketing');

  // Parley registered it as a carousel of two cards, each with its picture and buttons.
  const registered = await customer.call<{ templates: { templateName: string; components: { type: string; cards?: { components: { type: string; buttons?: { type: string }[] }[] }[] }[] }[] }>(
    'GET',
    `/api/v1/accounts/${env.accountId}/channels/${env.channelId}/templates`,
  );
  const carousel = registered.templates.find((t) => t.templateName === name)?.components.find((c) => c.type === 'CAROUSEL');
  expect(carousel?.cards).toHaveLength(2);
  expect(carousel?.cards?.[1]?.components.find((c) => c.type === 'BUTTONS')?.buttons?.map((b) => b.type)).toEqual(['QUICK_REPLY', 'URL']);
});

test('an authentication template made in the console sends a code the phone copies', async ({ page, env, customer }) => {
  const name = `login_code_${Date.now().toString(36)}`;
  const msisdn = phoneNumber();
  const code = String(100_000 + (Date.now() % 900_000));
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.url });
  await signIn(page, env, env.consoleEmail, env.consolePassword);
  await page.goto(`${env.url}/console/templates/new`);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Category', { exact: true }).selectOption('AUTHENTICATION');
  // WhatsApp writes an authentication template's text: there is none to write, nor a header.
  await expect(page.getByLabel('Body text')).toHaveCount(0);
  await expect(page.getByLabel('Header type')).toHaveCount(0);

  // The preview is the phone's bubble, with a sample code; the options change it live.
  const preview = page.getByTestId('template-preview');
  await expect(preview).toContainText('123456 is your verification code. For your security, do not share this code.');
  await page.getByLabel(/Add the security recommendation/).uncheck();
  await expect(preview).not.toContainText('For your security');
  await page.getByLabel(/Add the security recommendation/).check();
  await page.getByLabel('Code expires after (minutes)').fill('95');
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect(page.getByText('A whole number of minutes, 1 to 90.')).toBeVisible();
  await page.getByLabel('Code expires after (minutes)').fill('15');
  await expect(preview.locator('.bubble-footer')).toHaveText('This code expires in 15 minutes.');
  await expect(preview.getByRole('button', { name: 'Copy code' })).toBeVisible();
  await expect(await submitForReview(page, name)).toContainText('Authentication');

  // Approved in the review queue, where it reads as the phone will show it.
  const item = await reviewItem(page, name);
  await expect(item).toContainText('This code expires in 15 minutes.');
  await item.getByRole('button', { name: `Approve ${name}` }).click();
  await expect.poll(() => customer.templateStatus(name)).toBe('APPROVED');

  // The customer's code sends the code: the body's parameter and the copy button's.
  await customer.sendTemplate(msisdn, name, [
    { type: 'body', parameters: [{ type: 'text', text: code }] },
    { type: 'button', subType: 'url', index: 0, parameters: [{ type: 'text', text: code }] },
  ]);

  await page.goto(`${env.url}/console/phones/${encodeURIComponent(msisdn)}`);
  const phone = page.getByRole('region', { name: `Phone ${msisdn}` });
  const bubble = phone.locator('[data-testid="bubble"][data-type="template"]');
  await expect(bubble).toContainText(`${code} is your verification code. For your security, do not share this code.`);
  await expect(bubble.locator('.bubble-footer')).toHaveText('This code expires in 15 minutes.');

  // Tapping "Copy code" puts exactly the code on the clipboard and says so, briefly.
  await bubble.getByRole('button', { name: 'Copy code' }).click();
  await expect(phone.getByText('Code copied')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
  await expect(phone.getByText('Code copied')).toBeHidden({ timeout: 5_000 });
  // Nothing went back to the business: the chat still holds the one message.
  await expect(phone.locator('[data-testid="bubble"]')).toHaveCount(1);
});

test("a marketing template's copy-code button, made in the console, copies the send's offer code", async ({ page, env, customer }) => {
  const name = `offer_${Date.now().toString(36)}`;
  const msisdn = phoneNumber();
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.url });
  await signIn(page, env, env.consoleEmail, env.consolePassword);
  await page.goto(`${env.url}/console/templates/new`);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Body text').fill('Your next coffee is on us: use the code at the counter.');
  // Only marketing templates may carry an offer code.
  await expect(page.getByRole('button', { name: 'Add copy-code button' })).toHaveCount(0);
  await page.getByLabel('Category', { exact: true }).selectOption('MARKETING');
  await page.getByRole('button', { name: 'Add copy-code button' }).click();
  await page.getByLabel('Button 1 sample offer code').fill('FREECOFFEE2024XL');
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect(page.getByText('At most 15 characters.')).toBeVisible();
  await page.getByLabel('Button 1 sample offer code').fill('COFFEE25');
  await expect(page.getByTestId('template-preview').getByRole('button', { name: 'Copy offer code' })).toBeVisible();
  await submitForReview(page, name);
  await customer.approveAsMeta(name);
  await customer.sendTemplate(msisdn, name, [
    { type: 'button', subType: 'copyCode', index: 0, parameters: [{ type: 'couponCode', couponCode: 'ANA-7781' }] },
  ]);

  await page.goto(`${env.url}/console/phones/${encodeURIComponent(msisdn)}`);
  const phone = page.getByRole('region', { name: `Phone ${msisdn}` });
  await phone.getByRole('button', { name: 'Copy offer code' }).click();
  await expect(phone.getByText('Code copied')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('ANA-7781');
});

test('the navigation drawer of a narrow screen is worked by keyboard', async ({ page, env }) => {
  await signIn(page, env, env.consoleEmail, env.consolePassword);
  await page.setViewportSize({ width: 600, height: 800 });
  const toggle = page.getByRole('button', { name: 'Menu' });
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav).toBeHidden();
  await toggle.focus();
  await page.keyboard.press('Enter');
  // Opening it takes the focus into it; Escape closes it and gives the focus back.
  await expect(nav.getByRole('link').first()).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(nav).toBeHidden();
  await expect(toggle).toBeFocused();
  // A link followed from it closes it too, and the focus is not lost in the hidden drawer.
  await page.keyboard.press('Enter');
  await nav.getByRole('link', { name: 'Logs' }).click();
  await expect(page.getByRole('heading', { name: 'Message logs' })).toBeVisible();
  await expect(nav).toBeHidden();
  await expect(toggle).toBeFocused();
});

test('the console is cached the way a deploy needs and its deep links survive a reload', async ({ page, env }) => {
  // index.html is asked for again each time, so a new build shows at once…
  const index = await page.request.get(`${env.url}/console/`);
  expect(index.headers()['cache-control']).toBe('no-cache');
  const script = /\/console\/assets\/[^"]+\.js/.exec(await index.text())?.[0];
  expect(script).toBeTruthy();
  // …while the hashed files it names never change and are kept for a year.
  const asset = await page.request.get(`${env.url}${script}`);
  expect(asset.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  expect(asset.headers()['content-type']).toContain('javascript');
  // A stale page asking for an old build gets a 404, not HTML in place of JavaScript.
  expect((await page.request.get(`${env.url}/console/assets/gone-0000.js`)).status()).toBe(404);

  // A deep link typed into the address bar, and reloaded, opens that page (the server
  // answers index.html for the app's own routes).
  await signIn(page, env, env.consoleEmail, env.consolePassword);
  await page.goto(`${env.url}/console/templates`);
  await expect(page.getByRole('heading', { name: 'Templates', exact: true })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Templates', exact: true })).toBeVisible();
});
