import { api, request } from './client';
import type {
  ApiKey,
  Business,
  Clock,
  ConsoleUser,
  CreatedKey,
  Delivery,
  EndpointHealth,
  Faults,
  Limits,
  LogExportJob,
  LogExportRequest,
  LogPage,
  MessageRecord,
  PhoneChat,
  PhoneMessage,
  PhoneSummary,
  RegisteredTemplate,
  Role,
  Session,
  SimTemplate,
  Webhook,
  WindowState,
} from './types';

const enc = encodeURIComponent;

// ---- console ---------------------------------------------------------------------------

export const sessionApi = {
  current: () => request<Session>('/console/api/session', { quiet401: true }),
  signIn: (email: string, password: string) =>
    request<Session>('/console/api/session', { method: 'POST', body: { email, password }, quiet401: true }),
  signOut: () => request<undefined>('/console/api/session', { method: 'DELETE', quiet401: true }),
};

export const usersApi = {
  list: () => api.get<{ users: ConsoleUser[] }>('/console/api/users'),
  create: (u: { email: string; name: string; role: Role; password: string }) =>
    api.post<ConsoleUser>('/console/api/users', u),
  update: (id: string, change: Partial<{ name: string; role: Role; password: string; disabled: boolean }>) =>
    api.patch<ConsoleUser>(`/console/api/users/${enc(id)}`, change),
  remove: (id: string) => api.del<undefined>(`/console/api/users/${enc(id)}`),
};

export const keysApi = {
  list: () => api.get<{ keys: ApiKey[] }>('/console/api/keys'),
  create: (name: string) => api.post<CreatedKey>('/console/api/keys', { name }),
  revoke: (id: string) => api.del<undefined>(`/console/api/keys/${enc(id)}`),
};

// ---- simulator control API -------------------------------------------------------------

const phone = (msisdn: string) => `/sim/api/phones/${enc(msisdn)}`;

export type PhoneSend =
  | { type: 'text'; content: { text: string }; replyTo?: string; channelId?: string }
  | { type: 'location'; content: { location: { latitude: number; longitude: number; name?: string; address?: string } }; channelId?: string }
  | { type: 'image' | 'video' | 'audio' | 'sticker' | 'file'; content: { mediaId: string; text?: string; fileName?: string }; channelId?: string };

export type Tap =
  | { messageId: string; index: number }
  /** A quick reply on one card of a carousel. */
  | { messageId: string; cardIndex: number; index: number }
  | { messageId: string; rowId: string }
  | { messageId: string; location: { latitude: number; longitude: number; name?: string; address?: string } }
  | { messageId: string; callPermission: 'accept' | 'reject'; permanent?: boolean }
  | { messageId: string; flowResponse: Record<string, unknown> };

export const simApi = {
  phones: () => api.get<{ phones: PhoneSummary[] }>('/sim/api/phones'),
  chat: (msisdn: string, signal?: AbortSignal) => api.get<PhoneChat>(`${phone(msisdn)}/messages`, undefined, signal),
  send: (msisdn: string, send: PhoneSend) => api.post<PhoneMessage>(`${phone(msisdn)}/messages`, send),
  upload: (msisdn: string, file: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return request<{ id: string; mimeType: string; fileSize: number }>(`${phone(msisdn)}/media`, {
      method: 'POST',
      body: form,
    });
  },
  tap: (msisdn: string, tap: Tap) => api.post<PhoneMessage | { opened: string }>(`${phone(msisdn)}/tap`, tap),
  read: (msisdn: string) => api.post<{ read: number }>(`${phone(msisdn)}/read`, {}),
  /** `channelId`: the business number (Parley channel id, phone-number id or number). */
  block: (msisdn: string, channelId?: string) => api.post<unknown>(`${phone(msisdn)}/block`, channelId ? { channelId } : {}),
  unblock: (msisdn: string, channelId?: string) => api.del<unknown>(`${phone(msisdn)}/block`, channelId ? { channelId } : {}),
  report: (msisdn: string, channelId?: string) => api.post<unknown>(`${phone(msisdn)}/report`, channelId ? { channelId } : {}),
  window: (msisdn: string) => api.get<WindowState>(`${phone(msisdn)}/window`),
  templates: () => api.get<{ templates: SimTemplate[] }>('/sim/api/templates'),
  act: (id: string, action: Record<string, string>) =>
    api.post<SimTemplate>(`/sim/api/templates/${enc(id)}/actions`, action),
  clock: () => api.get<Clock>('/sim/api/clock'),
  advance: (seconds: number) => api.post<Clock>('/sim/api/clock/advance', { seconds }),
  faults: () => api.get<Faults>('/sim/api/faults'),
  setFaults: (f: Faults) => api.put<Faults>('/sim/api/faults', f),
  businesses: () => api.get<{ businesses: Business[] }>('/sim/api/businesses'),
  limits: (key: string) => api.get<Limits>(`/sim/api/businesses/${enc(key)}/limits`),
  setLimits: (key: string, body: Record<string, unknown>) =>
    api.post<Limits>(`/sim/api/businesses/${enc(key)}/limits`, body),
};

// ---- 8x8 API ---------------------------------------------------------------------------

export const templatesApi = {
  list: (accountId: string, channelId: string) =>
    api.get<{ templates: RegisteredTemplate[] }>(
      `/api/v1/accounts/${enc(accountId)}/channels/${enc(channelId)}/templates`,
    ),
  create: (accountId: string, channelId: string, body: unknown) =>
    api.post<unknown>(`/api/v1/accounts/${enc(accountId)}/channels/${enc(channelId)}/templates`, body),
  remove: (accountId: string, channelId: string, name: string) =>
    api.del<unknown>(`/api/v1/accounts/${enc(accountId)}/channels/${enc(channelId)}/templates/${enc(name)}`),
};

export interface LogFilters {
  subAccountId?: string;
  channel?: string;
  direction?: string;
  status?: string;
  country?: string;
  umid?: string;
  clientMessageId?: string;
  recipient?: string;
  from?: string;
  to?: string;
  pageSize?: number;
  cursor?: string;
}

export const logsApi = {
  page: (accountId: string, filters: LogFilters, signal?: AbortSignal) =>
    api.get<LogPage>(`/api/v1/accounts/${enc(accountId)}/messages`, { ...filters }, signal),
  details: (subAccountId: string, umid: string) =>
    api.get<{ data: MessageRecord[] }>(`/api/v1/subaccounts/${enc(subAccountId)}/messages/${enc(umid)}`),
  startExport: (subAccountId: string, body: LogExportRequest) =>
    api.post<{ jobId: string }>(`/api/v1/subaccounts/${enc(subAccountId)}/messages/exports`, body),
  exportStatus: (subAccountId: string, jobId: string, signal?: AbortSignal) =>
    api.get<LogExportJob>(`/api/v1/subaccounts/${enc(subAccountId)}/messages/exports/${enc(jobId)}`, undefined, signal),
  cancelExport: (subAccountId: string, jobId: string) =>
    api.del<undefined>(`/api/v1/subaccounts/${enc(subAccountId)}/messages/exports/${enc(jobId)}`),
};

export const settingsApi = {
  /** Whether log exports show numbers and content in the clear (PATCH: admins only). */
  get: (accountId: string) => api.get<{ logExportsUnmasked: boolean }>(`/api/v1/accounts/${enc(accountId)}/settings`),
  update: (accountId: string, change: { logExportsUnmasked: boolean }) =>
    api.patch<{ logExportsUnmasked: boolean }>(`/api/v1/accounts/${enc(accountId)}/settings`, change),
};

export const webhooksApi = {
  list: (accountId: string) => api.get<Webhook[]>(`/api/v1/accounts/${enc(accountId)}/webhooks`),
  save: (accountId: string, hooks: Record<string, unknown>[]) =>
    api.post<Webhook[]>(`/api/v1/accounts/${enc(accountId)}/webhooks`, hooks),
  remove: (accountId: string, which: { subAccountId: string; type?: string }[]) =>
    api.del<Webhook[]>(`/api/v1/accounts/${enc(accountId)}/webhooks`, which),
  deliveries: (accountId: string, query: Record<string, string | undefined>) =>
    api.get<{ deliveries: Delivery[]; nextCursor: string | null }>(
      `/api/v1/accounts/${enc(accountId)}/webhooks/deliveries`,
      query,
    ),
  delivery: (accountId: string, id: string) =>
    api.get<Delivery>(`/api/v1/accounts/${enc(accountId)}/webhooks/deliveries/${enc(id)}`),
  redrive: (accountId: string, body: Record<string, string>) =>
    api.post<{ redriven: number }>(`/api/v1/accounts/${enc(accountId)}/webhooks/deliveries/redrive`, body),
  endpoints: (accountId: string) =>
    api.get<{ endpoints: EndpointHealth[] }>(`/api/v1/accounts/${enc(accountId)}/webhooks/endpoints`),
};

export const filesApi = {
  /** Hosts a file with Parley (8x8's Files API): the URL messages and templates can use. */
  upload: async (subAccountId: string, file: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    const answer = await request<{ fileName: string; token: string }>(`/api/v1/subaccounts/${enc(subAccountId)}/files`, {
      method: 'POST',
      body: form,
    });
    return `${window.location.origin}/files/${enc(answer.fileName)}?token=${enc(answer.token)}`;
  },
};
