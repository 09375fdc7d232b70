// The phone for keyboard users: a list message's sheet keeps the focus inside it while it
// is open (Tab and Shift+Tab go round it), Escape closes it, and the focus goes back to the
// button that opened it; a row can be picked and sent without the mouse. The chat's ⋮ menu
// is worked with the arrow keys, Home and End, and Escape.

import { expect, phoneNumber, signIn, test } from './parley';
import type { Locator, Page } from '@playwright/test';

/** Whether the focused element is inside `scope`. */
const focusInside = (scope: Locator) => scope.evaluate((el) => el.contains(document.activeElement));

async function tabRound(page: Page, sheet: Locator, key: 'Tab' | 'Shift+Tab', presses: number) {
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press(key);
    expect(await focusInside(sheet), `focus after ${key} #${i + 1}`).toBe(true);
  }
}

test('a list sheet traps the focus, closes with Escape, and sends by keyboard', async ({ page, env, customer }) => {
  const msisdn = phoneNumber();
  await customer.phoneWrites(msisdn, 'Which size?');
  await customer.send({
    user: { msisdn },
    type: 'interactive',
    content: {
      interactive: {
        type: 'list',
        body: { text: 'Pick a size for your coffee.' },
        action: {
          button: 'Sizes',
          sections: [
            { title: 'Hot', rows: [{ id: 'small', title: 'Small' }, { id: 'large', title: 'Large' }] },
            { title: 'Iced', rows: [{ id: 'iced', title: 'Iced, one size' }] },
          ],
        },
      },
    },
  });
  await signIn(page, env, env.consoleEmail, env.consolePassword);
  await page.goto(`${env.url}/console/phones/${encodeURIComponent(msisdn)}`);
  const phone = page.getByRole('region', { name: `Phone ${msisdn}` });
  const open = phone.locator('[data-testid="bubble"][data-type="interactive"]').getByRole('button', { name: 'Sizes' });
  await open.focus();
  await page.keyboard.press('Enter');
  const sheet = phone.getByRole('dialog', { name: 'Sizes' });
  await expect(sheet).toBeVisible();
  await expect(sheet.getByRole('radio', { name: 'Small' })).toBeFocused();

  // Round and round: more presses than the sheet has stops, both ways.
  await tabRound(page, sheet, 'Tab', 6);
  await tabRound(page, sheet, 'Shift+Tab', 6);

  // Escape closes it and gives the focus back to the list's button.
  await page.keyboard.press('Escape');
  await expect(sheet).toHaveCount(0);
  await expect(open).toBeFocused();

  // Again, by keyboard only: arrow to a row, Tab to Send, Enter.
  await page.keyboard.press('Enter');
  await expect(sheet).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await expect(sheet.getByRole('radio', { name: 'Large' })).toBeChecked();
  await page.keyboard.press('Tab');
  await expect(sheet.getByRole('button', { name: 'Send' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(sheet).toHaveCount(0);
  await expect(phone.locator('[data-testid="bubble"][data-direction="from_user"]').last()).toContainText('Large');
});

test('the chat menu moves with the arrow keys, and Escape gives the focus back to its button', async ({ page, env, customer }) => {
  const msisdn = phoneNumber();
  await customer.phoneWrites(msisdn, 'Hello!');
  await signIn(page, env, env.consoleEmail, env.consolePassword);
  await page.goto(`${env.url}/console/phones/${encodeURIComponent(msisdn)}`);
  const phone = page.getByRole('region', { name: `Phone ${msisdn}` });
  const options = phone.getByRole('button', { name: 'Chat options' });
  await options.focus();
  await page.keyboard.press('Enter');
  const menu = phone.getByRole('menu', { name: 'Chat options' });
  const block = menu.getByRole('menuitem', { name: 'Block business' });
  const report = menu.getByRole('menuitem', { name: 'Report business' });
  await expect(block).toBeFocused();

  // Down and up go round; Home and End jump to the ends.
  for (const [key, item] of [
    ['ArrowDown', report],
    ['ArrowDown', block],
    ['ArrowUp', report],
    ['Home', block],
    ['End', report],
  ] as const) {
    await page.keyboard.press(key);
    await expect(item, `focus after ${key}`).toBeFocused();
  }

  // Escape closes it without doing anything, and the focus is back on ⋮.
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
  await expect(options).toBeFocused();
  await expect(options).toHaveAttribute('aria-expanded', 'false');
  // Up on the button opens the menu at its last item.
  await page.keyboard.press('ArrowUp');
  await expect(report).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(options).toBeFocused();
  await expect(phone.getByTestId('blocked-notice')).toHaveCount(0);
});
