import { isUtf8 } from 'node:buffer';

export type PayloadFormat = 'json' | 'text' | 'binary';

/** A payload that could be decoded: the JSON value, the text, or the bytes in base64. */
export interface DecodedPayload {
  ok: true;
  payload: unknown;
}

/**
 * A payload that could not be decoded under the feed's format. It is still fired, so that
 * nothing the broker handed over disappears without a record: the event carries the reason and,
 * unless the payload was over the size limit, the raw bytes in base64.
 */
export interface RejectedPayload {
  ok: false;
  error: string;
  payloadBase64?: string;
  payloadBytes: number;
}

export function decodePayload(bytes: Uint8Array, format: PayloadFormat, maxPayloadBytes: number): DecodedPayload | RejectedPayload {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length > maxPayloadBytes) {
    return { ok: false, error: `payload of ${buffer.length} bytes exceeds maxPayloadBytes (${maxPayloadBytes})`, payloadBytes: buffer.length };
  }
  if (format === 'binary') return { ok: true, payload: buffer.toString('base64') };
  const rejected = (error: string): RejectedPayload => ({ ok: false, error, payloadBase64: buffer.toString('base64'), payloadBytes: buffer.length });
  if (!isUtf8(buffer)) return rejected('payload is not valid UTF-8');
  const decoded = buffer.toString('utf8');
  // A byte order mark says "UTF-8", it is not part of the text.
  const text = decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
  if (format === 'text') return { ok: true, payload: text };
  try {
    return { ok: true, payload: JSON.parse(text) };
  } catch (error) {
    return rejected(`payload is not valid JSON: ${(error as Error).message}`);
  }
}

/** The value at a dotted path (`meta.id`) of a decoded JSON payload, if it is a string or a number. */
export function fieldAt(payload: unknown, path: string): string | undefined {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
