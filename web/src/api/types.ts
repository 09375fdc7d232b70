// The shapes Parley answers with, as the Rust sources write them (docs/console.md for the
// console's own routes, crates/api for 8x8's, crates/simulator for the control API).

export type Role = 'admin' | 'supervisor' | 'agent' | 'analyst';
export const ROLES: Role[] = ['admin', 'supervisor', 'agent', 'analyst'];

export type Permission =
  | 'users.manage'
  | 'keys.manage'
  | 'webhooks.manage'
  | 'webhooks.read'
  | 'templates.write'
  | 'templates.read'
  | 'messages.send'
  | 'logs.read'
  | 'logs.export'
  | 'simulator.use'
  | 'simulator.control';

export interface Session {
  user: { id: string; email: string; name: string; role: Role };
  csrfToken: string;
  permissions: Permission[];
  accountId: string;
  subAccounts: { id: string; channels: { id: string; businessNumber: string }[] }[];
}

export interface ConsoleUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  createdAt: string;
  disabled: boolean;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt?: string | null;
}

export interface CreatedKey extends ApiKey {
  key: string;
}

// ---- simulator -------------------------------------------------------------------------

export interface PhoneSummary {
  msisdn: string;
  name: string;
  messageCount: number;
  lastMessageAt: string | null;
  /** Whether the user blocked any business. */
  blocked: boolean;
  /** The phone-number ids of the businesses the user blocked. */
  blockedBusinesses: string[];
}

/** One bubble as the phone sees it (crates/simulator/src/state.rs `PhoneMessage`). */
export interface PhoneMessage {
  id: string;
  direction: 'from_business' | 'from_user';
  businessNumber: string;
  phoneNumberId: string;
  type: string;
  /** Meta's content object for `type`; for templates the simulator's rendered bubble. */
  message: unknown;
  /** `sent`, `delivered`, `read` (or `failed`). */
  status: string;
  timestamp: string;
  contextId?: string;
  typing?: boolean;
  mediaId?: string;
  mediaUrl?: string;
}

export interface PhoneChat {
  msisdn: string;
  name: string;
  messages: PhoneMessage[];
}

export interface SimTemplate {
  id: string;
  waba_id: string;
  name: string;
  language: string;
  category: string;
  status: string;
  quality_score: string;
  rejected_reason?: string;
  allow_category_change: boolean;
  components: unknown[];
  created_at: string;
}

export interface Clock {
  now: string;
  offsetSeconds: number;
}

export interface Faults {
  failurePercent: number;
  errorCode: number;
  extraLatencyMs: number;
}

export interface Business {
  phoneNumberId: string;
  displayNumber: string;
  wabaId: string;
  alias?: string | null;
}

export interface Limits {
  phoneNumberId: string;
  throughput: number;
  pairRate: { burst: number; intervalSeconds: number };
  messagingLimit: string;
  reach: { last24h: number; last7d: number; last30d: number };
  quality: string;
}

export interface WindowState {
  customerServiceWindow?: { open: boolean; expiresAt?: string | null };
  freeEntryPoint?: { active: boolean; expiresAt?: string | null; replyBy?: string | null };
  [k: string]: unknown;
}

// ---- 8x8 API ---------------------------------------------------------------------------

export interface StatusObject {
  state: string;
  detail?: string;
  timestamp: string;
  errorCode?: number;
  errorMessage?: string;
}

/** A message-details record (crates/api/src/dto.rs `record`). */
export interface MessageRecord {
  umid: string;
  subAccountId: string;
  channel: string;
  channelId?: string;
  direction: 'outbound' | 'inbound';
  status: StatusObject;
  user: { msisdn: string; channelUserId?: string };
  contentType: string;
  /** 8x8's one-line summary. */
  content: string;
  createdAt: string;
  step?: number;
  country?: string;
  clientMessageId?: string;
  batchId?: string;
  clientBatchId?: string;
  scheduled?: string;
  expiry?: string;
  hold?: { reason: string; until: string };
  pricing?: { pricingCategory?: string; type?: string; billable?: boolean; cost?: number | null };
  conversationWindow?: WindowState;
  /** The message this one answers (inbound replies), as in the inbound webhook; null otherwise. */
  replyToUmid?: string | null;
  /** Every status the message went through, oldest first (message details only). */
  statusHistory?: StatusObject[];
  /**
   * The stored 8x8 content object (message details only; null in the log's list): for
   * templates `{template, rendered}`, for media `{url, text}`, for text `{text}`…
   */
  contentObject?: Record<string, unknown> | null;
  whatsapp?: { providerErrorCode?: string; [k: string]: unknown };
}

export interface LogPage {
  data: MessageRecord[];
  nextCursor?: string;
}

/** What a log export is asked for (8x8's `LogExportRequest`). */
export interface LogExportRequest {
  from?: string;
  to?: string;
  /** E.164. */
  phoneNumber?: string;
  countries?: string[];
  /** Rows at most; 0 is no limit. */
  limit?: number;
}

export type LogExportStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'empty';

/** `GET …/messages/exports/{jobId}`: `data` holds the download links once it succeeded. */
export interface LogExportJob {
  status: LogExportStatus;
  data?: string[];
  expires?: string;
}

/** 8x8's registered template (GET …/templates). */
export interface RegisteredTemplate {
  channelId: string;
  channelName: string;
  templateName: string;
  language: string;
  languageName: string;
  components: TemplateComponent[];
  category: string;
  categoryName: string;
  status: string;
  statusName: string;
  qualityScore?: string;
  createdAt: string;
  updatedAt: string;
  reason?: string;
}

export interface TemplateButtonDef {
  type: string;
  text?: string;
  url?: string;
  phoneNumber?: string;
  phone_number?: string;
  example?: string[] | string;
  otp_type?: string;
}

export interface TemplateComponent {
  type: string;
  format?: string;
  text?: string;
  example?: unknown;
  examples?: unknown;
  buttons?: TemplateButtonDef[];
  cards?: { components: TemplateComponent[] }[];
  add_security_recommendation?: boolean;
  code_expiration_minutes?: number;
}

export type WebhookType = 'CADR' | 'MSG' | 'CABM';

/**
 * OAuth 2.0 client credentials (8x8's webhook `oauth`): Parley gets a token from `url` and
 * sends it with each event. `clientSecret` reads `***` once saved.
 */
export interface WebhookOAuth {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Where the client's id and secret go to the token endpoint: HTTP Basic or the form body. */
  credentialsLocation: 'header' | 'body';
  scope?: string;
}

export interface Webhook {
  subAccountId: string;
  type: WebhookType;
  url: string;
  enabled: boolean;
  /** `***` once saved. */
  httpAuthorization?: string;
  signingSecret?: string;
  oauth?: WebhookOAuth;
}

export interface Delivery {
  id: string;
  eventId: string;
  type: string;
  subAccountId: string | null;
  /** `pending`, `delivered`, `dead` or `dropped`. */
  state: string;
  attempts: number;
  createdAt: string;
  finishedAt: string | null;
  url: string | null;
  lastError: string | null;
  attemptLog?: { at: string; url: string; statusCode: number | null; latencyMs: number | null; error: string | null }[];
  payload?: unknown;
}

export interface EndpointHealth {
  url: string;
  state: 'failing' | 'healthy';
  failingSince: string | null;
  lastError: string | null;
  updatedAt: string;
}
