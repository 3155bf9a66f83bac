import {
  ActivationRecorder,
  KeyValueActivationStore,
  type ActivationStore,
  backoffDelay,
  deadLetterMessage,
  encodeJson,
  isKindlingError,
  KindlingError,
  messageOf,
  ruleActivationId,
  RULE_BATCH_MAX_SIZE,
  Subjects,
  triggerActivationId,
  type BackoffOptions,
  type BusMessage,
  type CloudEvent,
  type Consumption,
  type EventBus,
  type InvocationMessage,
  type KeyValueStore,
  type Logger,
} from '@kindling/core';
import { RuleBatcher } from './rule-batcher.js';
import { RuleBook, type IndexedRule } from './rule-book.js';
import { ruleLogLine, triggerActivationRecord, type RuleOutcome } from './trigger-activation.js';
import { payloadParams, readTriggerEvent, UnprocessableEventError, type TriggerEvent } from './trigger-event.js';

export interface RuleEngineOptions {
  bus: EventBus;
  store: KeyValueStore;
  log: Logger;
  /** Where activation records go; default the bounded store on `store` (`KeyValueActivationStore`). */
  activations?: ActivationStore;
  /** Events processed at once by this engine. Default 256. */
  maxInFlight?: number;
  /** Deliveries after which a failing event goes to the dead letters. Default 5. */
  maxDeliveries?: number;
  /** The durable consumer; every engine sharing it shares the events. Default `rules`. */
  durable?: string;
  /** How long an event may stay unacknowledged before it is delivered again. Default 30 s. */
  ackWaitMs?: number;
  /** Delay before a failed event is delivered again. Default 1 s doubling to 30 s. */
  retryBackoff?: BackoffOptions;
  /**
   * Events of batched rules held unacknowledged, waiting for their batch, before the engine stops
   * taking more. Default 20,000 (two batches of the largest size).
   */
  maxHeldEvents?: number;
}

/** Counters since start, for metrics. */
export interface RuleEngineMetrics {
  /** Events settled (acked), whether or not they matched a rule. */
  events: number;
  /** Invocations published (durably), batches included. */
  invocations: number;
  /** Batch invocations published (durably). */
  batches: number;
  /** Events put back for another delivery after a failure. */
  retries: number;
  /** Events sent to the dead letters. */
  deadLetters: number;
  /** Events held now, unacknowledged, until the batches they joined are durable. */
  heldEvents: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000 };

/**
 * The rule engine: turns trigger events into invocations. For each event on the durable consumer
 * it finds the trigger's active rules in an in-memory index (fed by watching the entity
 * buckets), applies each rule's filter, publishes one invocation per matching rule, records the
 * trigger activation, and acks the event only once all of those are durable. Every id is derived
 * from the event, so a redelivered event republishes the same invocations and the bus drops them
 * as duplicates: no action runs twice.
 */
export class RuleEngine {
  private readonly book: RuleBook;
  private readonly maxInFlight: number;
  private readonly maxDeliveries: number;
  private readonly retryBackoff: BackoffOptions;
  private recorder?: ActivationRecorder;
  private consumption?: Consumption;
  private turn?: Promise<void>;
  private readonly counters: RuleEngineMetrics = { events: 0, invocations: 0, batches: 0, retries: 0, deadLetters: 0, heldEvents: 0 };
  private readonly batcher: RuleBatcher;
  private readonly maxHeldEvents: number;
  private readonly ackWaitMs: number;
  /** Events waiting for their batches to be durable, acked once they are. */
  private readonly held = new Set<BusMessage>();
  private heldHeartbeat?: NodeJS.Timeout;
  private readonly roomWaiters: Array<() => void> = [];

  constructor(private readonly options: RuleEngineOptions) {
    this.maxInFlight = positiveInteger(options.maxInFlight ?? 256, 'maxInFlight');
    this.maxDeliveries = positiveInteger(options.maxDeliveries ?? 5, 'maxDeliveries');
    this.maxHeldEvents = positiveInteger(options.maxHeldEvents ?? 2 * RULE_BATCH_MAX_SIZE, 'maxHeldEvents');
    this.ackWaitMs = options.ackWaitMs ?? 30_000;
    this.retryBackoff = options.retryBackoff ?? DEFAULT_BACKOFF;
    this.book = new RuleBook(options.store, options.log);
    this.batcher = new RuleBatcher({
      bus: options.bus,
      log: options.log,
      published: (events) => {
        this.counters.batches++;
        this.counters.invocations++;
        this.options.log.debug({ events }, 'batch durable; acknowledging its events');
      },
    });
  }

  private get log(): Logger {
    return this.options.log;
  }

  /** Loads the triggers and rules, then starts taking events. */
  async start(): Promise<void> {
    if (this.consumption) throw new KindlingError('KND_INTERNAL', 'the rule engine is already started');
    this.recorder = new ActivationRecorder(this.options.activations ?? (await KeyValueActivationStore.open(this.options.store)));
    // The index must be complete before the first event: an event for a trigger not yet loaded
    // would be acked as one for a deleted trigger.
    await this.book.start();
    try {
      this.consumption = await this.options.bus.consume(
        {
          durable: this.options.durable ?? 'rules',
          filter: Subjects.allEvents,
          maxInFlight: this.maxInFlight,
          // Held events of batched rules stay unacknowledged on top of those being handled.
          maxPending: this.maxInFlight + this.maxHeldEvents,
          ackWaitMs: this.ackWaitMs,
        },
        (message) => this.handle(message),
      );
    } catch (error) {
      await this.book.stop();
      throw error;
    }
    this.log.info({ durable: this.options.durable ?? 'rules', maxInFlight: this.maxInFlight }, 'rule engine started');
  }

  /**
   * Stops taking events and waits for those in flight. Open batches are published as they are,
   * and their events acked, rather than left to come back after their ack wait.
   */
  async stop(): Promise<void> {
    const consumption = this.consumption;
    this.consumption = undefined;
    await consumption?.stop();
    await this.batcher.flush();
    // The acks (or retries) of the flushed batches' events run once their publishes settle.
    await new Promise((resolve) => setImmediate(resolve));
    clearInterval(this.heldHeartbeat);
    this.heldHeartbeat = undefined;
    await this.book.stop();
    this.log.info({ ...this.counters }, 'rule engine stopped');
  }

  /**
   * Resolves once the engine dispatches by the entity write to `bucket` that returned
   * `revision` (the number `EntityStore.put` returns): for callers that must know a rule they
   * just changed is in force, such as a one-process platform answering "create rule, fire".
   */
  reflects(bucket: 'triggers' | 'rules', revision: number): Promise<void> {
    return this.book.reflects(bucket, revision);
  }

  metrics(): RuleEngineMetrics {
    return { ...this.counters, heldEvents: this.held.size };
  }

  private async handle(message: BusMessage): Promise<void> {
    let input: TriggerEvent | undefined;
    try {
      input = readTriggerEvent(message.subject, message.data);
      const batches = await this.dispatch(input, message);
      if (batches.length > 0) {
        this.hold(message, input.event, batches);
        if (this.held.size >= this.maxHeldEvents) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
        return;
      }
      await this.nextTurn();
      message.ack();
      this.counters.events++;
    } catch (error) {
      await this.failed(message, input?.event, error);
    }
  }

  private async failed(message: BusMessage, event: CloudEvent | undefined, error: unknown): Promise<void> {
    // No number of deliveries makes an unprocessable event processable, nor an oversized
    // invocation (trigger parameters plus payload past the bus's limit) smaller.
    if (error instanceof UnprocessableEventError) await this.deadLetter(message, `unprocessable event: ${messageOf(error)}`);
    else if (isKindlingError(error) && error.code === 'KND_PAYLOAD_TOO_LARGE') await this.deadLetter(message, `too large to dispatch: ${messageOf(error)}`);
    else await this.retryOrDeadLetter(message, event, error);
  }

  /**
   * Keeps an event of batched rules unacknowledged until every batch it joined is durable, telling
   * the bus it is still being worked on so that its ack wait does not run out meanwhile.
   */
  private hold(message: BusMessage, event: CloudEvent, batches: Array<Promise<void>>): void {
    this.held.add(message);
    this.heldHeartbeat ??= setInterval(() => {
      for (const waiting of this.held) waiting.working();
    }, Math.max(100, Math.floor(this.ackWaitMs / 3)));
    void Promise.all(batches)
      .then(
        () => {
          message.ack();
          this.counters.events++;
        },
        (error: unknown) => this.failed(message, event, error),
      )
      .catch((error: unknown) => {
        // Settling failed too (the bus is gone): the event comes back after its ack wait.
        this.log.warn({ subject: message.subject, seq: message.seq, err: messageOf(error) }, 'could not settle a batched event');
      })
      .finally(() => {
        this.held.delete(message);
        if (this.held.size === 0) {
          clearInterval(this.heldHeartbeat);
          this.heldHeartbeat = undefined;
        }
        if (this.held.size < this.maxHeldEvents) for (const wake of this.roomWaiters.splice(0)) wake();
      });
  }

  /**
   * Publishes the event's per-event invocations and its trigger record, and adds it to the open
   * batches of its batched rules. Resolves once the former are durable, with one promise per
   * batch joined, each resolving once that batch is durable.
   */
  private async dispatch({ event, timeMs, triggerKey }: TriggerEvent, message: BusMessage): Promise<Array<Promise<void>>> {
    const entry = this.book.lookup(triggerKey) ?? (await this.book.lookupInStore(triggerKey));
    if (!entry) {
      this.log.debug({ namespace: event.kindlingnamespace, trigger: event.kindlingtrigger, eventId: event.id }, 'event for a trigger that does not exist; dropped');
      return [];
    }
    const { trigger, rules } = entry;
    const { namespace, name } = trigger.record;
    if (namespace !== event.kindlingnamespace || name !== event.kindlingtrigger) {
      throw new UnprocessableEventError(
        `the event names trigger ${event.kindlingnamespace}/${event.kindlingtrigger} but was published for ${namespace}/${name}`,
        'kindlingtrigger',
      );
    }
    if (rules.length === 0) {
      // As OpenWhisk: a fire with no active rule leaves no activation.
      this.log.debug({ namespace, trigger: name, eventId: event.id }, 'trigger has no active rule');
      return [];
    }
    await this.nextTurn();
    const cause = triggerActivationId(namespace, name, event.id, timeMs);
    const payload = payloadParams(event.data);
    // OpenWhisk's order: trigger parameters < event payload (the invoker adds action defaults beneath).
    const params = { ...trigger.params, ...payload };
    const requestedAt = Date.now();
    const writes: Array<Promise<unknown>> = [];
    const batched: IndexedRule[] = [];
    const logs: string[] = [];
    let invocations = 0;
    for (const rule of rules) {
      const outcome = this.applyRule(rule, event, timeMs);
      logs.push(ruleLogLine(outcome));
      if ('batched' in outcome) {
        batched.push(rule);
        continue;
      }
      if (!('activationId' in outcome)) continue;
      const invocation: InvocationMessage = {
        activationId: outcome.activationId,
        namespace: rule.actionNamespace,
        action: rule.actionName,
        params,
        requestedAt,
        cause,
        rule: rule.path,
        eventId: event.id,
        subject: namespace,
      };
      writes.push(this.options.bus.publish(rule.invocationSubject, encodeJson(invocation), { msgId: outcome.activationId }));
      invocations++;
    }
    // The record is written alongside the publishes, not after them: one round trip per event.
    writes.push(this.recorder!.record(triggerActivationRecord({ trigger: trigger.record, event, activationId: cause, start: timeMs, payload, logs })));
    await Promise.all(writes);
    this.counters.invocations += invocations;
    // Joined only once the rest is durable: an event that fails before comes back whole.
    return batched.map((rule) => this.batcher.add(rule, trigger.params, { event, timeMs, cause, bytes: message.data.length }));
  }

  /**
   * Resolves on the next turn of the event loop, the same promise for every caller in this turn.
   * Events arrive one microtask apart, and the bus client writes to its socket once per
   * microtask sweep: without this, each event's publishes and each ack would cost a write (a
   * syscall) of its own. Issued together after this turn, they share one.
   */
  private nextTurn(): Promise<void> {
    return (this.turn ??= new Promise((resolve) =>
      setImmediate(() => {
        this.turn = undefined;
        resolve();
      }),
    ));
  }

  private applyRule(rule: IndexedRule, event: CloudEvent, timeMs: number): RuleOutcome {
    if (rule.filterError !== undefined) return { rule, error: `filter is invalid: ${rule.filterError}` };
    if (rule.filter) {
      let matched: boolean;
      try {
        matched = rule.filter.test(event);
      } catch (error) {
        return { rule, error: `filter failed: ${messageOf(error)}` };
      }
      if (!matched) return { rule, skipped: 'filter did not match' };
    }
    if (rule.record.batch) return { rule, batched: true };
    return { rule, activationId: ruleActivationId(rule.record.namespace, rule.record.name, event.id, timeMs) };
  }

  private async retryOrDeadLetter(message: BusMessage, event: CloudEvent | undefined, error: unknown): Promise<void> {
    const context = { subject: message.subject, eventId: event?.id, deliveries: message.deliveryCount, err: messageOf(error) };
    if (message.deliveryCount >= this.maxDeliveries) {
      await this.deadLetter(message, `failed ${message.deliveryCount} times: ${messageOf(error)}`);
      return;
    }
    const delayMs = backoffDelay(message.deliveryCount, this.retryBackoff);
    this.log.warn({ ...context, retryInMs: delayMs }, 'event failed; it will be delivered again');
    this.counters.retries++;
    message.nak(delayMs);
  }

  private async deadLetter(message: BusMessage, reason: string): Promise<void> {
    const outcome = await deadLetterMessage(this.options.bus, 'events', message, reason, this.retryBackoff);
    if ('deadLetter' in outcome) {
      this.counters.deadLetters++;
      this.log.error({ subject: message.subject, seq: message.seq, deadLetter: outcome.deadLetter, reason }, 'event sent to the dead letters');
    } else {
      // Never drop an event that is not safely in the dead letters: it comes back to be tried again.
      this.log.error({ subject: message.subject, seq: message.seq, reason, err: messageOf(outcome.error), retryInMs: outcome.retryInMs }, 'could not dead-letter an event');
    }
  }
}

function positiveInteger(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new KindlingError('KND_VALIDATION', `'${field}': must be a positive integer, got ${value}`, { field });
  }
  return value;
}
