// What the tests share: the running server's details (from global-setup), the customer's
// side (8x8 API calls with the bearer key, as a customer's code makes them) and signing in.

import { expect, test as base, type APIRequestContext, type Browser, type Locator, type Page } from '@playwright/test';

export const ENV_KEY = 'PARLEY_E2E';

/** The simulator's Graph API token in the sandbox (`simulator.access_token`, crates/app/defaults.toml). */
const GRAPH_ACCESS_TOKEN = 'parley-sandbox-access-token';

export interface ParleyEnv {
  url: string;
  apiKey: string;
  accountId: string;
  subAccountId: string;
  channelId: string;
  businessNumber?: string;
  consoleEmail: string;
  consolePassword: string;
}

export function parleyEnv(): ParleyEnv {
  const raw = process.env[ENV_KEY];
  if (!raw) throw new Error('the global setup did not start parley');
  return JSON.parse(raw) as ParleyEnv;
}

/** The customer's code: Parley's 8x8 API and the simulator's control API, by bearer key. */
export class Customer {
  constructor(
    private readonly request: APIRequestContext,
    readonly env: ParleyEnv,
  ) {}

  private headers() {
    return { Authorization: `Bearer ${this.env.apiKey}` };
  }

  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const response = await this.request.fetch(`${this.env.url}${path}`, {
      method,
      headers: this.headers(),
      data: body,
    });
    const text = await response.text();
    if (!response.ok()) throw new Error(`${method} ${path} answered ${response.status()}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Hosts a file with Parley (Files API); the URL the simulator and browser fetch. */
  async upload(name: string, mimeType: string, buffer: Buffer): Promise<string> {
    const response = await this.request.post(`${this.env.url}/api/v1/subaccounts/${this.env.subAccountId}/files`, {
      headers: this.headers(),
      multipart: { file: { name, mimeType, buffer } },
    });
    expect(response.status(), await response.text()).toBe(201);
    const body = (await response.json()) as { fileName: string; token: string };
    return `${this.env.url}/files/${body.fileName}?token=${encodeURIComponent(body.token)}`;
  }

  send(message: Record<string, unknown>): Promise<{ umid: string }> {
    return this.call('POST', `/api/v1/subaccounts/${this.env.subAccountId}/messages`, message);
  }

  /** The simulated user writes to the business (opens the 24-hour window): the phone's bubble. */
  phoneWrites(msisdn: string, text: string): Promise<{ id: string }> {
    return this.call('POST', `/sim/api/phones/${encodeURIComponent(msisdn)}/messages`, {
      type: 'text',
      content: { text },
    });
  }

  /** The simulator's id of the sandbox's business number (Graph's `phone_number_id`). */
  async phoneNumberId(): Promise<string> {
    const { businesses } = await this.call<{ businesses: { phoneNumberId: string; displayNumber: string; alias?: string | null }[] }>(
      'GET',
      '/sim/api/businesses',
    );
    const business =
      businesses.find((b) => b.alias === this.env.channelId) ??
      businesses.find((b) => b.displayNumber === this.env.businessNumber) ??
      businesses[0];
    if (!business) throw new Error('the simulator has no business number');
    return business.phoneNumberId;
  }

  /**
   * The business reacts to the message `messageId` (a wamid in the chat of `msisdn`) with
   * `emoji`, or takes its reaction back with `''`: sent the way a business's own code sends
   * it to Meta, through the simulator's Graph API. The reaction's wamid.
   */
  async businessReacts(msisdn: string, messageId: string, emoji: string): Promise<string> {
    const response = await this.request.post(`${this.env.url}/sim/graph/v23.0/${await this.phoneNumberId()}/messages`, {
      headers: { Authorization: `Bearer ${GRAPH_ACCESS_TOKEN}` },
      data: {
        messaging_product: 'whatsapp',
        to: msisdn.replace(/\D/g, ''),
        type: 'reaction',
        reaction: { message_id: messageId, emoji },
      },
    });
    const text = await response.text();
    expect(response.ok(), `the reaction was refused: ${text}`).toBe(true);
    const id = (JSON.parse(text) as { messages?: { id: string }[] }).messages?.[0]?.id;
    if (!id) throw new Error(`the reaction's answer has no message id: ${text}`);
    return id;
  }

  async templateStatus(name: string): Promise<string | undefined> {
    const answer = await this.call<{ templates: { templateName: string; status: string }[] }>(
      'GET',
      `/api/v1/accounts/${this.env.accountId}/channels/${this.env.channelId}/templates`,
    );
    return answer.templates.find((t) => t.templateName === name)?.status;
  }

  /** Sends the approved template `name` (en_US) to `msisdn` with these 8x8 components. */
  sendTemplate(msisdn: string, name: string, components: unknown[]): Promise<{ umid: string }> {
    return this.send({
      user: { msisdn },
      type: 'template',
      content: { template: { name, language: 'en_US', components } },
    });
  }

  /** Creates a template through the 8x8 API, approves it as Meta, waits until Parley knows. */
  async approvedTemplate(body: Record<string, unknown>): Promise<void> {
    await this.call('POST', `/api/v1/accounts/${this.env.accountId}/channels/${this.env.channelId}/templates`, body);
    await this.approveAsMeta(body.name as string);
  }

  /** Approves the submitted template `name` in the simulator, waits until Parley knows. */
  async approveAsMeta(name: string): Promise<void> {
    const list = await this.call<{ templates: { id: string; name: string }[] }>(
      'GET',
      `/sim/api/templates?name=${encodeURIComponent(name)}`,
    );
    const id = list.templates.find((t) => t.name === name)?.id;
    expect(id, `the simulator has template ${name}`).toBeTruthy();
    await this.call('POST', `/sim/api/templates/${id}/actions`, { action: 'approve' });
    await expect.poll(() => this.templateStatus(name)).toBe('APPROVED');
  }
}

/** A picture to send: rendered by the browser itself, so the test needs no files. */
export async function picture(browser: Browser, title: string, subtitle: string, hue: number): Promise<Buffer> {
  const page = await browser.newPage({ viewport: { width: 640, height: 400 } });
  await page.setContent(`<body style="margin:0">
    <div style="width:640px;height:400px;display:flex;flex-direction:column;justify-content:flex-end;
      padding:36px;box-sizing:border-box;font-family:sans-serif;color:#fff;
      background:linear-gradient(135deg,hsl(${hue} 70% 45%),hsl(${(hue + 60) % 360} 75% 30%))">
      <div style="width:72px;height:8px;background:#fff;border-radius:4px;margin-bottom:18px"></div>
      <div style="font-size:44px;font-weight:800">${title}</div>
      <div style="font-size:24px;opacity:.9">${subtitle}</div>
    </div></body>`);
  const png = await page.screenshot({ type: 'png' });
  await page.close();
  return png;
}

export async function signIn(page: Page, env: ParleyEnv, email: string, password: string): Promise<void> {
  await page.goto(`${env.url}/console/`);
  await expect(page.getByRole('heading', { name: 'Sign in to the console' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
}

/** Adds a console user through the Users page (signed in as an admin). */
export async function addUser(page: Page, user: { name: string; email: string; role: string; password: string }): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  const form = page.getByRole('form', { name: 'Add a user' });
  await form.getByLabel('Name').fill(user.name);
  await form.getByLabel('Email').fill(user.email);
  await form.getByLabel('Role').selectOption(user.role);
  await form.getByLabel('Password').fill(user.password);
  await form.getByRole('button', { name: 'Add user' }).click();
}

/** Submits the template editor's form: the template's row in the list it returns to. */
export async function submitForReview(page: Page, name: string): Promise<Locator> {
  await page.getByRole('button', { name: 'Submit for review' }).click();
  await expect(page.getByText(`Template ${name} was submitted for review.`)).toBeVisible();
  return page.locator(`[data-testid="template-row"][data-name="${name}"]`);
}

/** Opens the simulator's review queue: the item of template `name`. */
export async function reviewItem(page: Page, name: string): Promise<Locator> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Simulator' }).click();
  return page.locator(`[data-testid="review-item"][data-name="${name}"]`);
}

export const test = base.extend<{ env: ParleyEnv; customer: Customer }>({
  // eslint-disable-next-line no-empty-pattern
  env: async ({}, use) => {
    await use(parleyEnv());
  },
  customer: async ({ playwright, env }, use) => {
    const request = await playwright.request.newContext();
    await use(new Customer(request, env));
    await request.dispose();
  },
});

export { expect };

/** A fresh number per test, so each phone's chat holds only that test's messages. */
let numbers = 0;
export function phoneNumber(): string {
  const n = (Math.floor(Date.now() / 10) % 1_000_000) * 10 + (numbers++ % 10);
  return `+1555${String(n).padStart(7, '0')}`;
}
