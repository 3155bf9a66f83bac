import { KindlingError } from '@kindling/core';

/** The largest message or value, as NATS's default `max_payload`: what works here works on NATS. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

export function assertPayloadSize(data: Uint8Array): void {
  if (data.length > MAX_PAYLOAD_BYTES) {
    throw new KindlingError('KND_PAYLOAD_TOO_LARGE', `the message is ${data.length} bytes; at most ${MAX_PAYLOAD_BYTES} fit.`, { detail: { bytes: data.length, max: MAX_PAYLOAD_BYTES } });
  }
}
