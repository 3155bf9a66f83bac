import { activationResponse, type ActivationResponse } from '@kindling/core';
import { Messages } from './messages.js';
import type { ProxyReply } from './proxy-client.js';

/** How much of an oversized result the error quotes (OpenWhisk quotes up to the limit; records here must stay storable). */
export const TRUNCATED_RESULT_QUOTE_BYTES = 64 * 1024;

/** A failed `/init` reply as OpenWhisk reads it: the proxy's `{error}` if it gave one. */
export function initFailureResponse(reply: ProxyReply, maxBytes: number): ActivationResponse {
  if (reply.truncated) return activationResponse(2, { error: truncationMessage(reply, maxBytes) });
  const parsed = parseJson(reply.body);
  if (isPlainObject(parsed) && 'error' in parsed) return activationResponse(2, { error: parsed.error });
  return activationResponse(2, { error: Messages.invalidInitResponse(reply.body) });
}

/**
 * A `/run` reply as OpenWhisk reads it: 200 with an object is a success, or an application
 * error when the object has `error`; 200 with an array is a success; anything else is a
 * developer error; a reply over the size limit is an application error.
 */
export function runResponse(reply: ProxyReply, maxBytes: number): ActivationResponse {
  if (reply.truncated) return activationResponse(1, { error: truncationMessage(reply, maxBytes) });
  const parsed = parseJson(reply.body);
  const ok = reply.status === 200;
  if (isPlainObject(parsed)) {
    if (ok) return 'error' in parsed ? activationResponse(1, { error: parsed.error }) : activationResponse(0, parsed);
    return activationResponse(2, { error: 'error' in parsed ? parsed.error : Messages.invalidRunResponse(reply.body) });
  }
  if (Array.isArray(parsed) && ok) return activationResponse(0, parsed);
  return activationResponse(2, { error: Messages.invalidRunResponse(reply.body) });
}

function truncationMessage(reply: ProxyReply, maxBytes: number): string {
  const trunk = Buffer.from(reply.body).subarray(0, TRUNCATED_RESULT_QUOTE_BYTES).toString('utf8');
  return Messages.truncatedResponse(reply.length, maxBytes, trunk);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
