import { decoder, KindlingError, Subjects, type CloudEvent } from '@kindling/core';

/** An event no number of deliveries can process: it goes to the dead letters at once. */
export class UnprocessableEventError extends KindlingError {
  constructor(message: string, field: string) {
    super('KND_VALIDATION', message, { field });
  }
}

/** A trigger event as the engine reads it off the bus. */
export interface TriggerEvent {
  event: CloudEvent;
  /** Event time in epoch ms: the time part of every id derived from the event. */
  timeMs: number;
  /** The trigger's key in the triggers bucket, taken from the subject (it holds the encoded names). */
  triggerKey: string;
}

const EVENT_SUBJECT_PREFIX = `${Subjects.eventsPrefix}.`;

/**
 * Decodes and checks one message from the events stream. Throws a `KND_VALIDATION` error naming
 * the bad field: such a message can never be processed and goes to the dead letters at once.
 * The check is by hand rather than a zod schema because it runs for every event on the hot path.
 */
export function readTriggerEvent(subject: string, data: Uint8Array): TriggerEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (error) {
    throw new UnprocessableEventError(`the event is not JSON: ${(error as Error).message}`, '(body)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UnprocessableEventError('the event is not a JSON object (a CloudEvent)', '(body)');
  }
  const event = parsed as Record<string, unknown>;
  for (const field of ['id', 'time', 'kindlingnamespace', 'kindlingtrigger'] as const) {
    if (typeof event[field] !== 'string' || event[field] === '') {
      throw new UnprocessableEventError(`'${field}': must be a non-empty string`, field);
    }
  }
  const timeMs = Date.parse(event.time as string);
  if (!Number.isFinite(timeMs)) {
    throw new UnprocessableEventError(`'time': ${JSON.stringify(event.time)} is not an RFC 3339 time`, 'time');
  }
  if (!subject.startsWith(EVENT_SUBJECT_PREFIX)) {
    throw new UnprocessableEventError(`subject '${subject}' is not a trigger event subject`, 'subject');
  }
  return { event: event as unknown as CloudEvent, timeMs, triggerKey: subject.slice(EVENT_SUBJECT_PREFIX.length) };
}

/**
 * The parameters an event contributes to an invocation, as OpenWhisk treats a trigger payload:
 * a JSON object's fields; any other value under `payload`; nothing for an absent payload.
 */
export function payloadParams(data: unknown): Record<string, unknown> {
  if (data === undefined || data === null) return {};
  if (typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
  return { payload: data };
}
