// The one way the console talks to Parley: same-origin fetch with the session cookie, the
// CSRF token on every state-changing call, 8x8 error envelopes turned into ApiError, and a
// trip to the sign-in page when the session is gone (401).

export interface ErrorEnvelope {
  code?: number;
  message?: string;
  errorId?: string;
  timestamp?: string;
  /** The simulator's control API answers `{error}` instead. */
  error?: string | { message?: string; code?: number };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: number | undefined;
  readonly errorId: string | undefined;

  constructor(status: number, message: string, code?: number, errorId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.errorId = errorId;
  }

  /** What a person reads: the message, its 8x8 code and the error id support asks for. */
  describe(): string {
    const code = this.code === undefined ? '' : ` (code ${this.code})`;
    const id = this.errorId ? ` · error id ${this.errorId}` : '';
    return `${this.message}${code}${id}`;
  }
}

let csrfToken: string | null = null;
let onSignedOut: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when any call answers 401: the session expired or was signed out elsewhere. */
export function setSignedOutHandler(handler: (() => void) | null): void {
  onSignedOut = handler;
}

function envelopeMessage(status: number, body: unknown, fallback: string): ApiError {
  if (body && typeof body === 'object') {
    const e = body as ErrorEnvelope;
    if (typeof e.message === 'string') {
      return new ApiError(status, e.message, e.code, e.errorId);
    }
    if (typeof e.error === 'string') return new ApiError(status, e.error);
    if (e.error && typeof e.error === 'object' && typeof e.error.message === 'string') {
      return new ApiError(status, e.error.message, e.error.code);
    }
  }
  return new ApiError(status, fallback);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  /** A 401 is expected (the sign-in page asking whether a session exists). */
  quiet401?: boolean;
  signal?: AbortSignal;
}

export function withQuery(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: BodyInit | undefined;
  if (options.body instanceof FormData) {
    body = options.body;
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal ?? null,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'Parley could not be reached. Is the server running?');
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      parsed = text;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !options.quiet401) onSignedOut?.();
    const fallback =
      response.status === 403
        ? 'Your role may not do this.'
        : `${response.status} ${response.statusText || 'request failed'}`;
    throw envelopeMessage(response.status, parsed, fallback);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) =>
    request<T>(path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>(path, { method: 'POST', body: body ?? {} }),
  put: <T>(path: string, body: unknown) => request<T>(path, { method: 'PUT', body }),
  patch: <T>(path: string, body: unknown) => request<T>(path, { method: 'PATCH', body }),
  del: <T>(path: string, body?: unknown) => request<T>(path, { method: 'DELETE', body }),
};

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.describe();
  if (e instanceof Error) return e.message;
  return String(e);
}
