/**
 * How the feed reacts to an error from the change stream:
 * - `history-lost`: the resume point is no longer in the oplog; the feed's `onHistoryLost` decides;
 * - `resumable`: a network error, an election, a cursor the server forgot; reopening from the
 *   last durable token fixes it (the driver already retried once by itself);
 * - `fatal`: retrying cannot help until someone changes something (credentials, a standalone
 *   server, a change stream option the server refuses);
 * - `retry`: anything else; the host retries the feed with backoff.
 */
export type MongoErrorKind = 'history-lost' | 'resumable' | 'fatal' | 'retry';

const HISTORY_LOST = 286; // ChangeStreamHistoryLost
const CHANGE_STREAM_FATAL = 280; // ChangeStreamFatalError: older servers' answer to a lost resume point
const CURSOR_NOT_FOUND = 43;
const FATAL_CODES = new Map<number, string>([
  [13, 'the user may not watch this namespace'], // Unauthorized
  [18, 'authentication failed'], // AuthenticationFailed
  [40573, 'change streams need a replica set or a sharded cluster'], // $changeStream on a standalone
  [2, 'the server refused the change stream options'], // BadValue (e.g. pre-images not enabled with "required")
]);
const RESUMABLE_NAMES = new Set(['MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError']);

interface ErrorShape {
  name?: string;
  code?: unknown;
  codeName?: unknown;
  message?: unknown;
  errorLabels?: unknown;
  hasErrorLabel?: (label: string) => boolean;
}

export function classifyMongoError(error: unknown): MongoErrorKind {
  const e = (error ?? {}) as ErrorShape;
  const code = typeof e.code === 'number' ? e.code : undefined;
  if (code === HISTORY_LOST || e.codeName === 'ChangeStreamHistoryLost') return 'history-lost';
  if (code === CHANGE_STREAM_FATAL && /oplog|resume/i.test(String(e.message ?? ''))) return 'history-lost';
  const labelled =
    (typeof e.hasErrorLabel === 'function' && e.hasErrorLabel('ResumableChangeStreamError')) ||
    (Array.isArray(e.errorLabels) && e.errorLabels.includes('ResumableChangeStreamError'));
  if (labelled || code === CURSOR_NOT_FOUND || (e.name !== undefined && RESUMABLE_NAMES.has(e.name))) return 'resumable';
  if (code !== undefined && FATAL_CODES.has(code)) return 'fatal';
  return 'retry';
}

/** A plain-words reason for a fatal error's code, if one is known. */
export function fatalReason(error: unknown): string | undefined {
  const code = (error as ErrorShape | null)?.code;
  return typeof code === 'number' ? FATAL_CODES.get(code) : undefined;
}
