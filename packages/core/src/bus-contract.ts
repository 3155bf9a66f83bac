import type { ConsumeOptions } from './bus.js';
import { KindlingError } from './errors.js';
import { assertFilter, assertSubject, filterCovers, subjectMatches } from './subject-filter.js';
import { Streams } from './subjects.js';
import { z } from 'zod';
import { parseWith } from './validation.js';

/**
 * What every `EventBus` backend checks and promises alike, kept in one place so that the NATS
 * and embedded backends cannot drift apart: the streams a subject or filter belongs to, the
 * consume options, the largest message, and the windows and waits.
 */

/** A `msgId` published again within this window is stored once (JetStream's `duplicate_window`). */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** How long a delivered message may stay unacknowledged when the consumer names no `ackWaitMs`. */
export const DEFAULT_ACK_WAIT_MS = 30_000;
/** The largest message or value, as NATS's default `max_payload`: what works here works on NATS. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

export type StreamDefinition = (typeof Streams)[keyof typeof Streams];

export const allStreams: readonly StreamDefinition[] = Object.values(Streams);

export function isWorkQueue(stream: StreamDefinition): boolean {
  return 'workQueue' in stream && stream.workQueue;
}

export function assertPayloadSize(data: Uint8Array): void {
  if (data.length > MAX_PAYLOAD_BYTES) {
    throw new KindlingError('KND_PAYLOAD_TOO_LARGE', `the message is ${data.length} bytes; at most ${MAX_PAYLOAD_BYTES} fit.`, { detail: { bytes: data.length, max: MAX_PAYLOAD_BYTES } });
  }
}

/** The stream that stores `subject`; a subject with wildcards or outside every stream is refused. */
export function streamOfSubject(subject: string): StreamDefinition {
  assertSubject(subject);
  const stream = allStreams.find((s) => s.subjects.some((filter) => subjectMatches(filter, subject)));
  if (!stream) throw new KindlingError('KND_VALIDATION', `'subject' ${subject} belongs to no stream (${allStreamSubjects()}).`, { field: 'subject' });
  return stream;
}

const consumeOptionsSchema = z.strictObject({
  durable: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ and - only'),
  filter: z.string().min(1),
  ackWaitMs: z.number().int().positive().optional(),
  maxInFlight: z.number().int().positive().optional(),
});

export interface CheckedConsumeOptions {
  durable: string;
  filter: string;
  ackWaitMs: number | undefined;
  maxInFlight: number;
  /** The one stream whose subjects cover the filter. */
  stream: StreamDefinition;
}

/** Validates what `consume` is given and finds the stream its filter lies in. */
export function checkConsumeOptions(options: ConsumeOptions): CheckedConsumeOptions {
  const { durable, filter, ackWaitMs, maxInFlight } = parseWith(consumeOptionsSchema, options, { prefix: 'consume' });
  assertFilter(filter, 'consume.filter');
  const stream = allStreams.find((s) => s.subjects.some((subjects) => filterCovers(subjects, filter)));
  if (!stream) throw new KindlingError('KND_VALIDATION', `'consume.filter' ${filter} is not inside one stream (${allStreamSubjects()}).`, { field: 'consume.filter' });
  return { durable, filter, ackWaitMs, maxInFlight: maxInFlight ?? 1, stream };
}

function allStreamSubjects(): string {
  return allStreams.flatMap((s) => s.subjects).join(', ');
}
