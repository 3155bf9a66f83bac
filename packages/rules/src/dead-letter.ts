import { decodeToken, Subjects, type BusMessage, type EventBus } from '@kindling/core';

/** Headers a dead-lettered trigger event carries; its body is the event's bytes, unchanged, so it can be replayed. */
export const DeadLetterHeaders = {
  reason: 'Kindling-Dead-Reason',
  deliveries: 'Kindling-Dead-Deliveries',
  subject: 'Kindling-Dead-Subject',
  seq: 'Kindling-Dead-Seq',
  at: 'Kindling-Dead-At',
} as const;

const MAX_REASON_LENGTH = 1024;

/**
 * Publishes a trigger event that cannot be processed to `kindling.dead.events.<ns>.<trigger>`.
 * Its id is derived from the stream sequence, so that a retry after a failed `term` does not
 * store it twice.
 */
export async function publishDeadLetter(bus: EventBus, message: BusMessage, reason: string): Promise<string> {
  const [namespace, trigger] = namesFromSubject(message.subject);
  const subject = Subjects.deadLetter('events', namespace, trigger);
  await bus.publish(subject, message.data, {
    msgId: `dead-events-${message.seq}`,
    headers: {
      // Header values are one line: an error message may hold newlines.
      [DeadLetterHeaders.reason]: reason.replace(/[\r\n]+/g, ' ').slice(0, MAX_REASON_LENGTH),
      [DeadLetterHeaders.deliveries]: String(message.deliveryCount),
      [DeadLetterHeaders.subject]: message.subject,
      [DeadLetterHeaders.seq]: String(message.seq),
      [DeadLetterHeaders.at]: new Date().toISOString(),
    },
  });
  return subject;
}

/** Namespace and trigger from `kindling.events.<ns>.<trigger>`; placeholders for a subject of another shape. */
function namesFromSubject(subject: string): [string, string] {
  const [, , namespace, trigger] = subject.split('.');
  return [namespace ? decodeToken(namespace) : '(unknown)', trigger ? decodeToken(trigger) : '(unknown)'];
}
