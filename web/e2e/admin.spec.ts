// An admin's pages: a user's password reset and their name changed (the old password stops
// working, their sessions end, the new password signs in); a webhook authenticated with
// OAuth 2.0 client credentials, listed as such without its secret.

import { addUser, expect, signIn, test } from './parley';

test("an admin resets an agent's password: the new one signs in, the old one no longer", async ({ page, browser, env }) => {
  const email = `reset.${Date.now().toString(36)}@parley.local`;
  const oldPassword = 'first-password-1234';
  const newPassword = 'second-password-5678';
  await signIn(page, env, env.consoleEmail, env.consolePassword);
  await addUser(page, { name: 'Agent Brown', email, role: 'agent', password: oldPassword });
  const row = page.locator(`[data-testid="user-row"][data-email="${email}"]`);
  await expect(row).toContainText('Agent Brown');

  // The agent is signed in with the first password.
  const context = await browser.newContext();
  const agent = await context.newPage();
  await signIn(agent, env, email, oldPassword);

  // Renamed in a dialog.
  await row.getByRole('button', { name: `Rename ${email}` }).click();
  const rename = page.getByRole('dialog', { name: `Rename ${email}` });
  await rename.getByLabel('Name').fill('Agent Green');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await expect(rename).toHaveCount(0);
  await expect(row).toContainText('Agent Green');

  // The dialog holds to the server's rule, then sets the password.
  const reset = row.getByRole('button', { name: `Reset the password of ${email}` });
  await reset.click();
  const dialog = page.getByRole('dialog', { name: `Reset the password of ${email}` });
  await expect(dialog.getByText('At least 12 characters.')).toBeVisible();
  await dialog.getByLabel('New password').fill('too-short');
  await expect(dialog.getByLabel('New password')).toHaveAttribute('aria-invalid', 'true');
  await dialog.getByRole('button', { name: 'Set password' }).click();
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('New password').fill(newPassword);
  await expect(dialog.getByLabel('New password')).toHaveAttribute('aria-invalid', 'false');
  await dialog.getByRole('button', { name: 'Set password' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('status').filter({ hasText: `${email} has a new password and was signed out.` })).toBeVisible();
  await expect(reset).toBeFocused();

  // The agent's session ended; the old password is refused, the new one signs in.
  await agent.reload();
  await expect(agent.getByRole('heading', { name: 'Sign in to the console' })).toBeVisible();
  await agent.getByLabel('Email').fill(email);
  await agent.getByLabel('Password').fill(oldPassword);
  await agent.getByRole('button', { name: 'Sign in' }).click();
  await expect(agent.getByRole('alert')).toContainText('Invalid email or password');
  await signIn(agent, env, email, newPassword);
  await expect(agent.getByText('Agent Green')).toBeVisible();
  await context.close();
});

test('a webhook saved with OAuth client credentials is listed as OAuth, its secret not shown back', async ({ page, env, customer }) => {
  const url = `https://hooks.example.com/parley/${Date.now().toString(36)}`;
  const clientSecret = `oauth-secret-${Date.now().toString(36)}`;
  await signIn(page, env, env.consoleEmail, env.consolePassword);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
  const form = page.getByRole('form', { name: 'Configure a webhook' });
  await form.getByLabel('Subaccount').selectOption(env.subAccountId);
  await form.getByRole('checkbox', { name: /^MSG/ }).uncheck();
  await form.getByLabel('URL', { exact: true }).fill(url);
  await form.getByRole('radio', { name: 'OAuth 2.0 client credentials' }).check();
  await form.getByLabel('Token URL').fill('https://auth.example.com/oauth/token');
  await form.getByLabel('Client ID').fill('parley-e2e');
  await form.getByLabel('Client secret').fill(clientSecret);
  await form.getByLabel('Scope (optional)').fill('hooks.write');
  await form.getByLabel('Credentials sent').selectOption('body');
  await form.getByRole('button', { name: 'Save webhook' }).click();
  await expect(form.getByText('Webhook saved.')).toBeVisible();

  const row = page.getByRole('row').filter({ hasText: url });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('CADR');
  await expect(row).toContainText('OAuth · client parley-e2e');
  // The secret is nowhere on the page: not in the list, not left in the form.
  await expect(page.getByText(clientSecret)).toHaveCount(0);
  await expect(form.getByLabel('Client secret')).toHaveCount(0);
  expect(await page.content()).not.toContain(clientSecret);

  // 8x8's API has what the console posted, the secret masked as it does.
  const hooks = await customer.call<{ url: string; oauth?: Record<string, string> }[]>('GET', `/api/v1/accounts/${env.accountId}/webhooks`);
  expect(hooks.find((h) => h.url === url)?.oauth).toEqual({
    url: 'https://auth.example.com/oauth/token',
    clientId: 'parley-e2e',
    clientSecret: '***',
    credentialsLocation: 'body',
    scope: 'hooks.write',
  });

  // Deleted again, so no later test's events go to it.
  await row.getByRole('button', { name: /^Delete/ }).click();
  await expect(row).toHaveCount(0);
});
