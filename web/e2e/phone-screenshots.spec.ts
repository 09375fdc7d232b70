// The phone view, photographed: a text chat, an image template with buttons, a list
// message with its sheet open, and a carousel. Each is sent the way a customer's code
// sends it (the 8x8 API with the bearer key); the pictures land in e2e/artifacts/.

import path from 'node:path';
import { expect, phoneNumber, picture, signIn, test, type Customer } from './parley';
import type { Browser, Page } from '@playwright/test';

const artifacts = path.join(path.dirname(new URL(import.meta.url).pathname), 'artifacts');

async function openPhone(page: Page, env: { url: string }, msisdn: string) {
  await page.goto(`${env.url}/console/phones/${encodeURIComponent(msisdn)}`);
  const phone = page.getByRole('region', { name: `Phone ${msisdn}` });
  await expect(phone).toBeVisible();
  return phone;
}

/** Waits until every picture in `scope` has loaded, so the screenshot shows them. */
async function picturesLoaded(page: Page, selector: string) {
  await expect
    .poll(() =>
      page.locator(selector).evaluateAll((imgs) => imgs.length > 0 && imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0)),
    )
    .toBe(true);
}

test.beforeEach(async ({ page, env }) => {
  await page.setViewportSize({ width: 1280, height: 960 });
  await signIn(page, env, env.consoleEmail, env.consolePassword);
});

test('a text chat with WhatsApp formatting and ticks', async ({ page, env, customer }) => {
  const msisdn = phoneNumber();
  await customer.phoneWrites(msisdn, 'Hi! Is my order on its way?');
  await customer.send({
    user: { msisdn },
    type: 'text',
    content: {
      text: '*Good news!* Your order _A-1042_ left our warehouse ~yesterday~ this morning.\nTracking number: ```TRK-55-0192```\nFollow it at https://parley.example/track',
    },
  });
  const phone = await openPhone(page, env, msisdn);
  const business = phone.locator('[data-testid="bubble"][data-direction="from_business"]');
  await expect(business.locator('strong')).toHaveText('Good news!');
  await expect(business.locator('em')).toHaveText('A-1042');
  await expect(business.locator('s')).toHaveText('yesterday');
  await expect(business.locator('code.wa-mono')).toHaveText('TRK-55-0192');
  await expect(business.getByRole('img', { name: 'Read' })).toBeVisible();

  // The user answers from the phone's own composer.
  await phone.getByRole('textbox', { name: 'Message', exact: true }).fill('Great, thanks a lot!');
  await phone.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(phone.locator('[data-testid="bubble"][data-direction="from_user"]').last()).toContainText('Great, thanks a lot!');
  await phone.locator('.phone').screenshot({ path: path.join(artifacts, 'phone-text.png') });
});

async function imageTemplate(customer: Customer, browser: Browser, name: string) {
  const sample = await customer.upload('sample.png', 'image/png', await picture(browser, 'Parley Coffee', 'Autumn menu', 24));
  await customer.approvedTemplate({
    name,
    language: 'en_US',
    category: 'MARKETING',
    components: [
      { type: 'HEADER', format: 'IMAGE', examples: [sample] },
      {
        type: 'BODY',
        text: 'Hi {{1}}, our *autumn menu* is here! Show this message for a free pastry with any latte, until {{2}}.',
        examples: ['Ana', 'Sunday'],
      },
      { type: 'FOOTER', text: 'Reply STOP to opt out' },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'QUICK_REPLY', text: 'Save my pastry' },
          { type: 'QUICK_REPLY', text: 'Not interested' },
          { type: 'URL', text: 'See the menu', url: 'https://parley.example/menu' },
        ],
      },
    ],
  });
}

test('an image template with buttons', async ({ page, env, customer, browser }) => {
  const msisdn = phoneNumber();
  const name = `autumn_menu_${Date.now().toString(36)}`;
  await imageTemplate(customer, browser, name);
  const header = await customer.upload('header.png', 'image/png', await picture(browser, 'Parley Coffee', 'Pumpkin spice is back', 28));
  await customer.sendTemplate(msisdn, name, [
    { type: 'header', parameters: [{ type: 'image', url: header }] },
    { type: 'body', parameters: [{ type: 'text', text: 'Maria' }, { type: 'text', text: 'Sunday' }] },
  ]);
  const phone = await openPhone(page, env, msisdn);
  const bubble = phone.locator('[data-testid="bubble"][data-type="template"]');
  await expect(bubble).toContainText('Hi Maria, our autumn menu is here!');
  await expect(bubble.getByRole('button', { name: 'Save my pastry' })).toBeEnabled();
  await expect(bubble.getByRole('button', { name: 'See the menu' })).toBeVisible();
  await picturesLoaded(page, '.phone img.media-img');
  await expect(bubble.getByRole('img', { name: 'Read' })).toBeVisible();
  await phone.locator('.phone').screenshot({ path: path.join(artifacts, 'phone-image-template.png') });
});

test('a list message with its sheet open, and a row picked', async ({ page, env, customer }) => {
  const msisdn = phoneNumber();
  await customer.phoneWrites(msisdn, 'I would like to book a delivery');
  await customer.send({
    user: { msisdn },
    type: 'interactive',
    content: {
      interactive: {
        type: 'list',
        header: { type: 'text', text: 'Delivery slots' },
        body: { text: 'When should we bring your order? Pick a slot that suits you.' },
        footer: { text: 'Parley Foods' },
        action: {
          button: 'Choose a slot',
          sections: [
            {
              title: 'Tomorrow',
              rows: [
                { id: 'tue-am', title: 'Morning', description: '8:00 – 12:00' },
                { id: 'tue-pm', title: 'Afternoon', description: '12:00 – 17:00' },
              ],
            },
            {
              title: 'Friday',
              rows: [
                { id: 'fri-am', title: 'Morning', description: '8:00 – 12:00' },
                { id: 'fri-eve', title: 'Evening', description: '17:00 – 21:00' },
              ],
            },
          ],
        },
      },
    },
  });
  const phone = await openPhone(page, env, msisdn);
  const bubble = phone.locator('[data-testid="bubble"][data-type="interactive"]');
  await expect(bubble).toContainText('When should we bring your order?');
  await bubble.getByRole('button', { name: 'Choose a slot' }).click();
  const sheet = phone.getByRole('dialog', { name: 'Choose a slot' });
  await expect(sheet.getByRole('group', { name: 'Friday' })).toBeVisible();
  await sheet.getByRole('group', { name: 'Friday' }).getByLabel(/Evening/).check();
  await phone.locator('.phone').screenshot({ path: path.join(artifacts, 'phone-list.png') });
  await sheet.getByRole('button', { name: 'Send' }).click();
  await expect(sheet).toHaveCount(0);
  await expect(phone.locator('[data-testid="bubble"][data-direction="from_user"]').last()).toContainText('Evening');
});

test('a carousel template', async ({ page, env, customer, browser }) => {
  const msisdn = phoneNumber();
  const name = `weekly_picks_${Date.now().toString(36)}`;
  const cards = [
    ['Flat white', 'Velvety espresso and milk', 200],
    ['Cold brew', 'Steeped 18 hours', 220],
    ['Matcha latte', 'Ceremonial grade', 120],
  ] as const;
  const images: string[] = [];
  for (const [title, subtitle, hue] of cards) {
    images.push(await customer.upload(`${title}.png`, 'image/png', await picture(browser, title, subtitle, hue)));
  }
  await customer.approvedTemplate({
    name,
    language: 'en_US',
    category: 'MARKETING',
    components: [
      { type: 'BODY', text: 'Hi {{1}}, here are this week’s picks from the bar:', examples: ['Ana'] },
      {
        type: 'CAROUSEL',
        cards: cards.map(([title, subtitle], i) => ({
          components: [
            { type: 'HEADER', format: 'IMAGE', examples: [images[i]] },
            { type: 'BODY', text: `*${title}*: ${subtitle}. Yours for $4.50 this week.` },
            {
              type: 'BUTTONS',
              buttons: [
                { type: 'QUICK_REPLY', text: 'Order one' },
                { type: 'URL', text: 'Details', url: 'https://parley.example/menu' },
              ],
            },
          ],
        })),
      },
    ],
  });
  await customer.sendTemplate(msisdn, name, [
    { type: 'body', parameters: [{ type: 'text', text: 'Maria' }] },
    {
      type: 'carousel',
      cards: images.map((url, i) => ({
        cardIndex: i,
        components: [{ type: 'header', parameters: [{ type: 'image', url }] }],
      })),
    },
  ]);
  const phone = await openPhone(page, env, msisdn);
  const bubble = phone.locator('[data-testid="bubble"][data-type="template"]');
  await expect(bubble).toContainText('Hi Maria, here are this week’s picks from the bar:');
  const carousel = bubble.getByRole('list', { name: 'Carousel' });
  await expect(carousel.getByRole('listitem')).toHaveCount(3);
  await expect(carousel.getByRole('listitem').first()).toContainText('Velvety espresso and milk');
  const coldBrew = carousel.getByRole('listitem', { name: 'Card 2 of 3' });
  await expect(coldBrew).toContainText('Steeped 18 hours');
  // A card's URL button opens its page; its quick reply answers the business.
  await expect(coldBrew.getByRole('button', { name: 'Details' })).toHaveAttribute('title', 'https://parley.example/menu');
  await picturesLoaded(page, '.phone .carousel img');
  await phone.locator('.phone').screenshot({ path: path.join(artifacts, 'phone-carousel.png') });

  // The user taps the second card's quick reply: the answer quotes the carousel.
  await coldBrew.getByRole('button', { name: 'Order one' }).click();
  const reply = phone.locator('[data-testid="bubble"][data-direction="from_user"]').last();
  await expect(reply).toContainText('Order one');
  await expect(reply.locator('.bubble-quote')).toContainText('Hi Maria, here are this week’s picks');
  await expect(phone.getByRole('alert')).toHaveCount(0);
  await phone.locator('.phone').screenshot({ path: path.join(artifacts, 'phone-carousel-answered.png') });
});
