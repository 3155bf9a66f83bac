import { encodeToken } from './names.js';

/**
 * The bus layout. Every name is encoded into a single token, so any legal entity name routes
 * safely and a wildcard subscription cannot be widened by a name containing `.`, `*` or `>`.
 */
export const Subjects = {
  eventsPrefix: 'kindling.events',
  invokePrefix: 'kindling.invoke',
  deadLetterPrefix: 'kindling.dead',
  event(namespace: string, trigger: string): string {
    return `kindling.events.${encodeToken(namespace)}.${encodeToken(trigger)}`;
  },
  invocation(namespace: string, action: string): string {
    return `kindling.invoke.${encodeToken(namespace)}.${encodeToken(action)}`;
  },
  deadLetter(kind: 'events' | 'invoke' | 'feeds', namespace: string, name: string): string {
    return `kindling.dead.${kind}.${encodeToken(namespace)}.${encodeToken(name)}`;
  },
  /** Core (not stored) notification that an activation finished. */
  activationDone(namespace: string, activationId: string): string {
    return `kindling.done.${encodeToken(namespace)}.${activationId}`;
  },
  allEvents: 'kindling.events.>',
  allInvocations: 'kindling.invoke.>',
  allDeadLetters: 'kindling.dead.>',
} as const;

/** Streams every backend provides. */
export const Streams = {
  events: { name: 'KINDLING_EVENTS', subjects: [Subjects.allEvents] },
  invocations: { name: 'KINDLING_INVOKE', subjects: [Subjects.allInvocations], workQueue: true },
  deadLetters: { name: 'KINDLING_DEAD', subjects: [Subjects.allDeadLetters] },
} as const;

/** Key-value buckets every backend provides. */
export const Buckets = {
  namespaces: 'kindling_namespaces',
  actions: 'kindling_actions',
  triggers: 'kindling_triggers',
  rules: 'kindling_rules',
  feeds: 'kindling_feeds',
  feedStatus: 'kindling_feed_status',
  cursors: 'kindling_cursors',
  leases: 'kindling_leases',
  activations: 'kindling_activations',
} as const;

export type BucketName = (typeof Buckets)[keyof typeof Buckets];

/** The key of a namespaced entity in its bucket. */
export function entityKey(namespace: string, name: string): string {
  return `${encodeToken(namespace)}.${encodeToken(name)}`;
}

export function namespaceKeyPrefix(namespace: string): string {
  return `${encodeToken(namespace)}.`;
}
