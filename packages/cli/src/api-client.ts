import { KindlingError, type ErrorCode } from '@kindling/core';

/** Where the API is and who calls it: `apihost` is `http(s)://host:port`, `auth` is `uuid:key`. */
export interface ApiTarget {
  apihost: string;
  auth: string;
}

export interface ApiResponse<T = unknown> {
  status: number;
  /** Parsed JSON; the raw text when the body is not JSON; undefined when empty. */
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
}

export interface ApiClientOptions {
  /** How long one request may take before the API counts as unreachable. */
  timeoutMs?: number;
  userAgent?: string;
}

/** Long enough for a blocking invoke, which the API holds for up to 60 s. */
const DEFAULT_TIMEOUT_MS = 90_000;

const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  400: 'KND_VALIDATION',
  401: 'KND_UNAUTHENTICATED',
  403: 'KND_FORBIDDEN',
  404: 'KND_NOT_FOUND',
  409: 'KND_CONFLICT',
  413: 'KND_PAYLOAD_TOO_LARGE',
  504: 'KND_TIMEOUT',
};

/** The API answered with an error status. The message is the API's own `error` text. */
export class ApiError extends KindlingError {
  readonly httpStatus: number;
  /** The response body: an OpenWhisk error `{error, code}`, or an activation record for a failed invoke. */
  readonly body: unknown;
  readonly apiMessage: string;

  constructor(method: string, path: string, status: number, statusText: string, body: unknown) {
    const apiMessage = errorMessageOf(body) ?? (statusText || 'request failed');
    const requestId = isRecord(body) && typeof body.code === 'string' ? `, request ${body.code}` : '';
    super(CODE_FOR_STATUS[status] ?? 'KND_INTERNAL', `${apiMessage} (HTTP ${status}${requestId})`, {
      detail: { method, path, status },
    });
    this.name = 'ApiError';
    this.httpStatus = status;
    this.body = body;
    this.apiMessage = apiMessage;
  }
}

/** A small client for the OpenWhisk-compatible REST API, on Node's global `fetch`. */
export class ApiClient {
  private readonly base: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(readonly target: ApiTarget, options: ApiClientOptions = {}) {
    this.base = `${target.apihost.replace(/\/+$/, '')}/api/v1/`;
    this.authorization = `Basic ${Buffer.from(target.auth).toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.userAgent = options.userAgent ?? 'kindling-cli';
  }

  /** Sends one request; resolves for 2xx, throws `ApiError` for any other status. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(path, this.base);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      authorization: this.authorization,
      accept: 'application/json',
      'user-agent': this.userAgent,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';

    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw this.unreachable(error);
    }
    const body = parseBody(text);
    if (!response.ok) throw new ApiError(method, path, response.status, response.statusText, body);
    return { status: response.status, body: body as T, headers: response.headers };
  }

  private unreachable(error: unknown): KindlingError {
    const host = this.target.apihost;
    // Duck-typed, not `instanceof`: fetch's errors may come from another realm (a test VM).
    const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
    if (failure?.name === 'TimeoutError') {
      return new KindlingError('KND_UNREACHABLE', `no answer from the API at ${host} within ${this.timeoutMs} ms`, { cause: error });
    }
    const reason = failure?.cause?.code ?? failure?.cause?.message ?? failure?.message ?? String(error);
    return new KindlingError('KND_UNREACHABLE', `could not reach the API at ${host} (${reason}); is 'kindling up' running?`, { cause: error });
  }
}

/**
 * The URL path of an entity, relative to `/api/v1/`. A name written `/ns/name` (as `wsk`
 * accepts) names another namespace; otherwise `_`, the caller's own. Each segment is
 * percent-encoded so that any name reaches the API intact.
 */
export function entityPath(collection: string, name: string): string {
  let namespace = '_';
  let rest = name;
  if (name.startsWith('/')) {
    const [ns = '', ...parts] = name.slice(1).split('/');
    namespace = ns || '_';
    rest = parts.join('/');
  }
  const encodedName = rest.split('/').map(encodeURIComponent).join('/');
  return `namespaces/${encodeURIComponent(namespace)}/${collection}${rest ? `/${encodedName}` : ''}`;
}

/** The fully qualified name a rule or a sequence refers to: `hello` → `/_/hello`. */
export function qualifiedName(name: string): string {
  return name.startsWith('/') ? name : `/_/${name}`;
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorMessageOf(body: unknown): string | undefined {
  if (!isRecord(body)) return typeof body === 'string' && body.length > 0 && body.length < 500 ? body : undefined;
  if (typeof body.error === 'string') return body.error;
  // A blocking invoke that failed answers with the activation record; its result holds the error.
  const response = isRecord(body.response) ? body.response : undefined;
  const result = response && isRecord(response.result) ? response.result : undefined;
  if (result && typeof result.error === 'string') return result.error;
  if (response && typeof response.status === 'string') return `activation ended with status '${response.status}'`;
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
