import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { BusMessage, EventBus } from './bus.js';
import { decodeToken } from './names.js';
import { Subjects } from './subjects.js';

/** Headers a dead letter carries; its body is the original message's bytes, unchanged, so it can be replayed. */
export const DeadLetterHeaders = {
  reason: 'Kindling-Dead-Reason',
  deliveries: 'Kindling-Dead-Deliveries',
  subject: 'Kindling-Dead-Subject',
  seq: 'Kindling-Dead-Seq',
  at: 'Kindling-Dead-At',
} as const;

/** What was dead-lettered: trigger events (the rule engine) or invocations (the invoker). */
export type DeadLetterKind = 'events' | 'invoke';

const MAX_HEADER_LENGTH = 1024;

/**
 * A header value the bus accepts: one line (nats.js refuses CR and LF in a header, and an error
 * message may span lines) and bounded in length.
 */
export function headerValue(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, MAX_HEADER_LENGTH);
}

/**
 * Publishes a message that cannot be processed to `kindling.dead.<kind>.<ns>.<name>`, with the
 * reason and where it came from in its headers. Its msg id is derived from the kind and the stream
 * sequence, so that a retry after a failed `term` does not store it twice.
 */
export async function publishDeadLetter(bus: EventBus, kind: DeadLetterKind, message: BusMessage, reason: string): Promise<string> {
  const [namespace, name] = namesFromSubject(message.subject);
  const subject = Subjects.deadLetter(kind, namespace, name);
  await bus.publish(subject, message.data, {
    msgId: `dead-${kind}-${message.seq}`,
    headers: {
      [DeadLetterHeaders.reason]: headerValue(reason),
      [DeadLetterHeaders.deliveries]: String(message.deliveryCount),
      [DeadLetterHeaders.subject]: headerValue(message.subject),
      [DeadLetterHeaders.seq]: String(message.seq),
      [DeadLetterHeaders.at]: new Date().toISOString(),
    },
  });
  return subject;
}

/** Where a dead-lettered message went, or, when the dead letters could not take it, when it comes back. */
export type DeadLetterOutcome = { deadLetter: string } | { retryInMs: number; error: unknown };

/**
 * Parks `message` in the dead letters and terminates it; if the dead letters cannot take it, it
 * is never dropped: it is nak'ed, to come back after a backoff (`retry`) and be tried again.
 */
export async function deadLetterMessage(
  bus: EventBus,
  kind: DeadLetterKind,
  message: BusMessage,
  reason: string,
  retry: BackoffOptions = {},
): Promise<DeadLetterOutcome> {
  try {
    const deadLetter = await publishDeadLetter(bus, kind, message, reason);
    message.term();
    return { deadLetter };
  } catch (error) {
    const retryInMs = backoffDelay(message.deliveryCount, retry);
    message.nak(retryInMs);
    return { retryInMs, error };
  }
}

/** Namespace and name from `kindling.<events|invoke>.<ns>.<name>`; placeholders for a subject of another shape. */
function namesFromSubject(subject: string): [string, string] {
  const [, , namespace, name] = subject.split('.');
  return [namespace ? decodeToken(namespace) : '(unknown)', name ? decodeToken(name) : '(unknown)'];
}
