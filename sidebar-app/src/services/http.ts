// The one HTTP client of the sidebar: JSON in/out, same-origin cookies, the server's error
// envelope `{error:{code,message}}` turned into ApiError, and one central place for 401s.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The envelope's optional `details` (e.g. retryAfterSeconds of a 429). */
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Network failure (offline, DNS, CORS, aborted): no HTTP status at all. */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

/** Minimal view of fetch so tests can pass a stub without DOM typings. */
export interface FetchResponseLike {
  readonly status: number;
  readonly ok: boolean;
  text(): Promise<string>;
}
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; credentials: 'same-origin' },
) => Promise<FetchResponseLike>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  query?: Record<string, string | number | undefined | null>;
  body?: unknown;
  /** Let the caller handle a 401 itself (boot flow: /me, /session). */
  allowUnauthorized?: boolean;
  /**
   * A write that may be replayed after signing in again (Chinese description of what it saves,
   * e.g. 标签「高潜客户」). The 401 handler keeps it and the page completes it after OAuth.
   */
  resumable?: string;
  /**
   * A call that is not replayed (e.g. preparing a send: the message must not go out unattended);
   * after signing in again the manager is shown this text (Chinese).
   */
  notice?: string;
}

/** What the 401 handler is told: the request that met the expired session. */
export interface UnauthorizedRequest {
  path: string;
  method: string;
  body: unknown;
  resumable?: string;
  notice?: string;
}

export interface HttpClient {
  request<T>(path: string, options?: RequestOptions): Promise<T>;
  /**
   * Registered by the boot flow: what to do when a call comes back 401 (re-run OAuth). It answers
   * true when it kept the request to complete after signing in: the call then fails with
   * ApiError('reauth_pending') so the caller neither rolls back nor reports a loss.
   */
  onUnauthorized(handler: ((error: ApiError, request: UnauthorizedRequest) => boolean | undefined) | null): void;
}

export function buildQuery(query: RequestOptions['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const key of Object.keys(query)) {
    const value = query[key];
    if (value === undefined || value === null || value === '') continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function toApiError(status: number, body: unknown): ApiError {
  const envelope = body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null;
  const code = typeof envelope?.error?.code === 'string' ? envelope.error.code : `http_${status}`;
  const message = typeof envelope?.error?.message === 'string' ? envelope.error.message : `HTTP ${status}`;
  return new ApiError(status, code, message, envelope?.error?.details);
}

export function createHttpClient(options: { baseUrl?: string; fetch: FetchLike }): HttpClient {
  const baseUrl = options.baseUrl ?? '';
  let unauthorizedHandler: ((error: ApiError, request: UnauthorizedRequest) => boolean | undefined) | null = null;

  return {
    onUnauthorized(handler) {
      unauthorizedHandler = handler;
    },
    async request<T>(path: string, req: RequestOptions = {}): Promise<T> {
      const method = req.method ?? (req.body === undefined ? 'GET' : 'POST');
      const headers: Record<string, string> = { accept: 'application/json' };
      let body: string | undefined;
      if (req.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(req.body);
      }
      let res: FetchResponseLike;
      try {
        res = await options.fetch(baseUrl + path + buildQuery(req.query), {
          method,
          headers,
          body,
          credentials: 'same-origin',
        });
      } catch (err) {
        throw new ApiError(0, 'network_error', err instanceof Error ? err.message : String(err));
      }
      const parsed = parseBody(await res.text());
      if (res.ok) return parsed as T;
      const error = toApiError(res.status, parsed);
      if (res.status === 401 && !req.allowUnauthorized && unauthorizedHandler) {
        const kept = unauthorizedHandler(error, {
          path,
          method,
          body: req.body,
          resumable: req.resumable,
          notice: req.notice,
        });
        if (kept) throw new ApiError(401, 'reauth_pending', 'kept to complete after signing in again');
      }
      throw error;
    },
  };
}
