import { KindlingError, messageOf, type ErrorCode } from '@kindling/core';

/** JetStream API error codes this backend reacts to. */
export const JsErrorCodes = {
  streamNameInUse: 10058,
  consumerNotFound: 10014,
  wrongLastSequence: 10071,
  workQueueNotUnique: 10100,
  workQueueMultipleUnfiltered: 10099,
} as const;

export function jsErrorCode(error: unknown): number | undefined {
  return (error as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code;
}

export function isWrongLastSequence(error: unknown): boolean {
  return jsErrorCode(error) === JsErrorCodes.wrongLastSequence || /wrong last sequence/i.test(messageOf(error));
}

/**
 * Wraps a client or server failure as a KindlingError that says what was being done: a payload
 * over the server's max_payload is the caller's to fix (`KND_PAYLOAD_TOO_LARGE`); anything else
 * means the bus or store cannot serve now.
 */
export function unavailable(code: Extract<ErrorCode, 'KND_BUS_UNAVAILABLE' | 'KND_STORE_UNAVAILABLE'>, doing: string, error: unknown): KindlingError {
  if (error instanceof KindlingError) return error;
  if ((error as { code?: string } | undefined)?.code === 'MAX_PAYLOAD_EXCEEDED') {
    return new KindlingError('KND_PAYLOAD_TOO_LARGE', `${doing} failed: the message is larger than the server's max_payload.`, { cause: error });
  }
  return new KindlingError(code, `${doing} failed: ${messageOf(error)}`, { cause: error });
}
