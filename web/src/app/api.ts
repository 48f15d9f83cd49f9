/**
 * The one way the web app talks to the server: JSON under /api/v1 with the session cookie,
 * the CSRF double-submit header on writes, and problem+json errors turned into ApiError.
 */

export const API_BASE = '/api/v1';
const CSRF_COOKIE = 'aula_csrf';
const CSRF_HEADER = 'x-csrf-token';

/** One entry of a problem's `errors`: a field path (validation) or a line number (file imports). */
export interface ProblemItem {
  path?: string;
  line?: number;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors?: ProblemItem[];
  /** Seconds to wait before retrying, from Retry-After (rate limits). */
  readonly retryAfterSeconds?: number;
  /** Any other members of the problem document. */
  readonly extra: Record<string, unknown>;

  constructor(init: {
    status: number;
    code: string;
    detail: string;
    errors?: ProblemItem[];
    retryAfterSeconds?: number;
    extra?: Record<string, unknown>;
  }) {
    super(init.detail);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.errors = init.errors;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.extra = init.extra ?? {};
  }
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export type QueryValue = string | number | boolean | null | undefined;
export type QueryParams = Record<string, QueryValue>;

export function buildQuery(params: QueryParams | undefined): string {
  if (!params) return '';
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    search.set(k, String(v));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

export function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [k, ...rest] = part.trim().split('=');
    if (k === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

type Listener = (err: ApiError) => void;
const unauthorizedListeners = new Set<Listener>();

/** Lets the auth layer learn that the session ended (expired, signed out elsewhere). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

interface RequestOptions {
  query?: QueryParams;
  body?: unknown;
  form?: FormData;
  signal?: AbortSignal;
  /** Do not broadcast a 401 (the sign-in and "who am I" calls expect it). */
  quiet401?: boolean;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  let body: BodyInit | undefined;
  if (opts.form) {
    body = opts.form;
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = readCookie(CSRF_COOKIE);
    if (csrf) headers[CSRF_HEADER] = csrf;
  }
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}${buildQuery(opts.query)}`, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError({
      status: 0,
      code: 'network_error',
      detail: 'Cannot reach the server. Check your connection and try again.',
    });
  }
  if (!res.ok) {
    const error = await toApiError(res);
    if (error.status === 401 && !opts.quiet401) for (const l of unauthorizedListeners) l(error);
    throw error;
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) return (await res.json()) as T;
  return (await res.text()) as T;
}

async function toApiError(res: Response): Promise<ApiError> {
  const retryAfter = Number(res.headers.get('retry-after'));
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const p = (await res.json()) as Record<string, unknown>;
      const { status: _s, code, detail, errors, title, type: _t, instance: _i, ...extra } = p;
      return new ApiError({
        status: res.status,
        code: typeof code === 'string' ? code : 'http_' + String(res.status),
        detail:
          typeof detail === 'string' && detail
            ? detail
            : typeof title === 'string'
              ? title
              : `Request failed (${res.status})`,
        errors: Array.isArray(errors) ? (errors as ProblemItem[]) : undefined,
        retryAfterSeconds,
        extra,
      });
    } catch {
      // fall through to the generic error
    }
  }
  return new ApiError({
    status: res.status,
    code: 'http_' + String(res.status),
    detail: res.status >= 500 ? 'The server had a problem. Try again in a moment.' : `Request failed (${res.status})`,
    retryAfterSeconds,
  });
}

export const api = {
  get: <T>(path: string, query?: QueryParams, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  del: <T = void>(path: string) => request<T>('DELETE', path),
  /** Sends one file as multipart/form-data under the field name `file`. */
  upload: <T>(method: 'POST' | 'PUT', path: string, file: File | Blob, filename?: string) => {
    const form = new FormData();
    if (filename) form.append('file', file, filename);
    else form.append('file', file);
    return request<T>(method, path, { form });
  },
};

/** A readable sentence for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429)
      return `${err.detail}${err.retryAfterSeconds ? ` (${retryText(err.retryAfterSeconds)})` : ''}`;
    return err.detail;
  }
  if (err instanceof Error) return err.message;
  return 'Something went wrong';
}

export function retryText(seconds: number): string {
  if (seconds < 60) return `try again in ${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  return `try again in ${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/**
 * Field errors of a validation problem keyed by field name, so forms can show them under
 * each input. Paths look like `body.email` (request validation) or `email` (service checks).
 */
export function fieldErrors(err: unknown): Record<string, string> {
  if (!(err instanceof ApiError) || !err.errors) return {};
  const out: Record<string, string> = {};
  for (const e of err.errors) {
    if (!e.path) continue;
    const key = e.path.replace(/^(body|querystring|params)\.?/, '');
    if (key && !(key in out)) out[key] = e.message;
  }
  return out;
}
