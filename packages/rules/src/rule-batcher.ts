import {
  batchActivationId,
  encodeJson,
  messageOf,
  type CloudEvent,
  type EventBus,
  type InvocationMessage,
  type Logger,
} from '@kindling/core';
import type { IndexedRule } from './rule-book.js';

/**
 * The most event bytes one batch carries: its invocation must stay under the bus's 1 MiB
 * message limit (NATS's default `max_payload`) with room for the trigger parameters and the
 * envelope. A batch that would grow past it closes early.
 */
export const BATCH_MAX_EVENT_BYTES = 768 * 1024;

/** One event waiting in a batch. */
export interface BatchMember {
  event: CloudEvent;
  /** Event time in epoch ms. */
  timeMs: number;
  /** The event's trigger activation id. */
  cause: string;
  /** Size of the event on the bus: what it adds to the batch's invocation. */
  bytes: number;
}

interface OpenBatch {
  rule: IndexedRule;
  triggerParams: Readonly<Record<string, unknown>>;
  members: BatchMember[];
  bytes: number;
  timer: NodeJS.Timeout;
  /** Settles every member's `add` promise. */
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

export interface RuleBatcherOptions {
  bus: EventBus;
  log: Logger;
  /** Called once per batch whose invocation is durable. */
  published?: (eventCount: number) => void;
}

/**
 * Collects the events of batched rules, per rule, and publishes each batch as ONE invocation
 * with params `{ ...trigger parameters, events: [CloudEvent, …] }`. A batch closes at the rule's
 * `batch.size` events, `batch.windowMs` after its first event, or when one more event would
 * push it past `BATCH_MAX_EVENT_BYTES`, whichever comes first. Its activation id is derived from
 * the member event ids, so the same batch published again (after a crash) is a duplicate.
 *
 * `add` resolves once the batch holding the event is durable on the bus: the caller acks the
 * event only then. It rejects when that publish fails, for the caller to retry the event.
 */
export class RuleBatcher {
  private readonly open = new Map<string, OpenBatch>();
  private readonly publishing = new Set<Promise<void>>();

  constructor(private readonly options: RuleBatcherOptions) {}

  add(rule: IndexedRule, triggerParams: Readonly<Record<string, unknown>>, member: BatchMember): Promise<void> {
    const batch = rule.record.batch!;
    let open = this.open.get(rule.path);
    if (open && open.members.length > 0 && open.bytes + member.bytes > BATCH_MAX_EVENT_BYTES) {
      this.close(open);
      open = undefined;
    }
    if (!open) {
      const created: OpenBatch = {
        rule,
        triggerParams,
        members: [],
        bytes: 0,
        timer: setTimeout(() => this.close(created), batch.windowMs),
        waiters: [],
      };
      open = created;
      this.open.set(rule.path, open);
    }
    open.members.push(member);
    open.bytes += member.bytes;
    const added = new Promise<void>((resolve, reject) => open.waiters.push({ resolve, reject }));
    if (open.members.length >= open.rule.record.batch!.size) this.close(open);
    return added;
  }

  /** Events waiting in open batches. */
  get waiting(): number {
    let count = 0;
    for (const batch of this.open.values()) count += batch.members.length;
    return count;
  }

  /** Closes every open batch now and waits for all publishes: for a clean stop. */
  async flush(): Promise<void> {
    for (const batch of [...this.open.values()]) this.close(batch);
    await Promise.allSettled([...this.publishing]);
  }

  private close(batch: OpenBatch): void {
    if (this.open.get(batch.rule.path) !== batch) return;
    this.open.delete(batch.rule.path);
    clearTimeout(batch.timer);
    const publishing = this.publish(batch).finally(() => this.publishing.delete(publishing));
    this.publishing.add(publishing);
  }

  private async publish(batch: OpenBatch): Promise<void> {
    const { rule, members } = batch;
    const eventIds = members.map((member) => member.event.id);
    const activationId = batchActivationId(rule.record.namespace, rule.record.name, eventIds, members[0]!.timeMs);
    const invocation: InvocationMessage = {
      activationId,
      namespace: rule.actionNamespace,
      action: rule.actionName,
      params: { ...batch.triggerParams, events: members.map((member) => member.event) },
      requestedAt: Date.now(),
      cause: members[0]!.cause,
      rule: rule.path,
      eventIds,
      subject: rule.record.namespace,
    };
    try {
      await this.options.bus.publish(rule.invocationSubject, encodeJson(invocation), { msgId: activationId });
    } catch (error) {
      this.options.log.warn({ rule: rule.path, activationId, events: members.length, err: messageOf(error) }, 'batch invocation could not be published; its events will be delivered again');
      for (const waiter of batch.waiters) waiter.reject(error);
      return;
    }
    this.options.published?.(members.length);
    this.options.log.debug({ rule: rule.path, activationId, events: members.length }, 'batch invocation published');
    for (const waiter of batch.waiters) waiter.resolve();
  }
}
