import { createHash, randomBytes } from 'node:crypto';

/**
 * Activation ids are 32 lowercase hex characters, as OpenWhisk's. Ours start with the time
 * (12 hex digits of epoch milliseconds) so that they sort by time, and end with either a hash
 * of a deterministic cause (so a retry derives the same id) or random bytes.
 */
export function activationIdFor(timeMs: number, ...cause: string[]): string {
  const hash = createHash('sha256').update(cause.join('\u0000')).digest('hex');
  return timePrefix(timeMs) + hash.slice(0, 20);
}

export function randomActivationId(timeMs = Date.now()): string {
  return timePrefix(timeMs) + randomBytes(10).toString('hex');
}

export function activationTime(id: string): number {
  return Number.parseInt(id.slice(0, 12), 16);
}

export function isActivationId(value: string): boolean {
  return /^[0-9a-f]{32}$/.test(value);
}

function timePrefix(timeMs: number): string {
  return Math.max(0, Math.floor(timeMs)).toString(16).padStart(12, '0').slice(-12);
}

/** A stable id derived from its parts: used for event ids of sources that give identity. */
export function deterministicId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

/** The activation id of a trigger fire: derived from the event, so a redelivery records it once. */
export function triggerActivationId(namespace: string, trigger: string, eventId: string, eventTimeMs: number): string {
  return activationIdFor(eventTimeMs, 'trigger', namespace, trigger, eventId);
}

/** The activation id of the invocation a rule makes for an event: event id + rule, so a redelivered event runs no action twice. */
export function ruleActivationId(namespace: string, rule: string, eventId: string, eventTimeMs: number): string {
  return activationIdFor(eventTimeMs, 'rule', namespace, rule, eventId);
}

/**
 * The activation id of a rule's batch: derived from the member events (in any order), so a batch
 * published again after a crash, with the same events, is dropped by the bus as a duplicate.
 */
export function batchActivationId(namespace: string, rule: string, eventIds: readonly string[], firstEventTimeMs: number): string {
  return activationIdFor(firstEventTimeMs, 'batch', namespace, rule, ...[...eventIds].sort());
}
