import {
  KeyValueActivationStore,
  type ActivationStore,
  backoffDelay,
  deadLetterMessage,
  encodeJson,
  isKindlingError,
  KindlingError,
  messageOf,
  ruleActivationId,
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
}

/** Counters since start, for metrics. */
export interface RuleEngineMetrics {
  /** Events settled (acked), whether or not they matched a rule. */
  events: number;
  /** Invocations published (durably). */
  invocations: number;
  /** Events put back for another delivery after a failure. */
  retries: number;
  /** Events sent to the dead letters. */
  deadLetters: number;
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
  private activations?: ActivationStore;
  private consumption?: Consumption;
  private turn?: Promise<void>;
  private readonly counters: RuleEngineMetrics = { events: 0, invocations: 0, retries: 0, deadLetters: 0 };

  constructor(private readonly options: RuleEngineOptions) {
    this.maxInFlight = positiveInteger(options.maxInFlight ?? 256, 'maxInFlight');
    this.maxDeliveries = positiveInteger(options.maxDeliveries ?? 5, 'maxDeliveries');
    this.retryBackoff = options.retryBackoff ?? DEFAULT_BACKOFF;
    this.book = new RuleBook(options.store, options.log);
  }

  private get log(): Logger {
    return this.options.log;
  }

  /** Loads the triggers and rules, then starts taking events. */
  async start(): Promise<void> {
    if (this.consumption) throw new KindlingError('KND_INTERNAL', 'the rule engine is already started');
    this.activations = this.options.activations ?? (await KeyValueActivationStore.open(this.options.store));
    // The index must be complete before the first event: an event for a trigger not yet loaded
    // would be acked as one for a deleted trigger.
    await this.book.start();
    try {
      this.consumption = await this.options.bus.consume(
        {
          durable: this.options.durable ?? 'rules',
          filter: Subjects.allEvents,
          maxInFlight: this.maxInFlight,
          ackWaitMs: this.options.ackWaitMs ?? 30_000,
        },
        (message) => this.handle(message),
      );
    } catch (error) {
      await this.book.stop();
      throw error;
    }
    this.log.info({ durable: this.options.durable ?? 'rules', maxInFlight: this.maxInFlight }, 'rule engine started');
  }

  /** Stops taking events and waits for those in flight. */
  async stop(): Promise<void> {
    const consumption = this.consumption;
    this.consumption = undefined;
    await consumption?.stop();
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
    return { ...this.counters };
  }

  private async handle(message: BusMessage): Promise<void> {
    let input: TriggerEvent | undefined;
    try {
      input = readTriggerEvent(message.subject, message.data);
      await this.dispatch(input);
      await this.nextTurn();
      message.ack();
      this.counters.events++;
    } catch (error) {
      // No number of deliveries makes an unprocessable event processable, nor an oversized
      // invocation (trigger parameters plus payload past the bus's limit) smaller.
      if (error instanceof UnprocessableEventError) await this.deadLetter(message, `unprocessable event: ${messageOf(error)}`);
      else if (isKindlingError(error) && error.code === 'KND_PAYLOAD_TOO_LARGE') await this.deadLetter(message, `too large to dispatch: ${messageOf(error)}`);
      else await this.retryOrDeadLetter(message, input?.event, error);
    }
  }

  private async dispatch({ event, timeMs, triggerKey }: TriggerEvent): Promise<void> {
    const entry = this.book.lookup(triggerKey) ?? (await this.book.lookupInStore(triggerKey));
    if (!entry) {
      this.log.debug({ namespace: event.kindlingnamespace, trigger: event.kindlingtrigger, eventId: event.id }, 'event for a trigger that does not exist; dropped');
      return;
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
      return;
    }
    await this.nextTurn();
    const cause = triggerActivationId(namespace, name, event.id, timeMs);
    const payload = payloadParams(event.data);
    // OpenWhisk's order: trigger parameters < event payload (the invoker adds action defaults beneath).
    const params = { ...trigger.params, ...payload };
    const requestedAt = Date.now();
    const writes: Array<Promise<unknown>> = [];
    const logs: string[] = [];
    let invocations = 0;
    for (const rule of rules) {
      const outcome = this.applyRule(rule, event, timeMs);
      logs.push(ruleLogLine(outcome));
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
    writes.push(this.activations!.put(triggerActivationRecord({ trigger: trigger.record, event, activationId: cause, start: timeMs, payload, logs })));
    await Promise.all(writes);
    this.counters.invocations += invocations;
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
