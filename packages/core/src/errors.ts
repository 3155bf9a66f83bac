/**
 * One registry of coded errors for the whole platform. Every error a user can see carries a
 * stable code, an HTTP status, and a message that says what to do about it.
 */
export const ErrorCodes = {
  KND_VALIDATION: { status: 400, title: 'Invalid input' },
  KND_BAD_NAME: { status: 400, title: 'Invalid entity name' },
  KND_BAD_FEED_PARAMS: { status: 400, title: 'Invalid feed parameters' },
  KND_UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  KND_FORBIDDEN: { status: 403, title: 'Not authorized' },
  KND_NOT_FOUND: { status: 404, title: 'Not found' },
  KND_CONFLICT: { status: 409, title: 'Conflict' },
  KND_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  KND_UNKNOWN_PROVIDER: { status: 400, title: 'Unknown provider or feed kind' },
  KND_PROVIDER_LOAD: { status: 500, title: 'Provider could not be loaded' },
  KND_FEED_FAILED: { status: 500, title: 'Feed failed' },
  KND_BUS_UNAVAILABLE: { status: 503, title: 'Event bus unavailable' },
  KND_STORE_UNAVAILABLE: { status: 503, title: 'Store unavailable' },
  KND_TIMEOUT: { status: 504, title: 'Timed out' },
  /** A runner has more work waiting than it accepts: nothing was done, try again later. */
  KND_OVERLOADED: { status: 503, title: 'Overloaded' },
  /** A client (the CLI) could not reach the API: refused, reset, or no answer in time. */
  KND_UNREACHABLE: { status: 503, title: 'Service unreachable' },
  KND_INTERNAL: { status: 500, title: 'Internal error' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface KindlingErrorOptions {
  /** The field or parameter the error is about, as a dotted path (`params.cron`). */
  field?: string;
  cause?: unknown;
  /** Extra structured detail for logs and API bodies; never put secrets here. */
  detail?: Record<string, unknown>;
}

export class KindlingError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: KindlingErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KindlingError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.field = options.field;
    this.detail = options.detail;
  }
}

export function isKindlingError(error: unknown): error is KindlingError {
  return error instanceof KindlingError;
}

export function notFound(what: string): KindlingError {
  return new KindlingError('KND_NOT_FOUND', `${what} does not exist.`);
}

/** The message of anything thrown, without assuming it is an Error. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
