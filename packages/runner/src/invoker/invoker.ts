import {
  ActivationRecorder,
  BoundedCache,
  KeyValueActivationStore,
  type ActivationStore,
  Subjects,
  backoffDelay,
  deadLetterMessage,
  decodeJson,
  encodeJson,
  isActivationId,
  messageOf,
  parseWith,
  RULE_BATCH_MAX_SIZE,
  silentLogger,
  z,
  type ActivationRecord,
  type BackoffOptions,
  type BusMessage,
  type Consumption,
  type EventBus,
  type InvocationMessage,
  type KeyValueStore,
  type Logger,
} from '@kindling/core';
import type { ActionRuntime } from '../runtime/action-runtime.js';
import { RuntimeStoppedError } from '../runtime/container.js';
import { ActionBook } from './action-book.js';
import { ActionExecutor } from './action-executor.js';

export interface InvokerOptions {
  bus: EventBus;
  /** The store holding actions and activation records. */
  store: KeyValueStore;
  /** Where activation records go; default the bounded store on `store` (`KeyValueActivationStore`). */
  activations?: ActivationStore;
  /** Runs the code actions; started and stopped by its owner, not by the invoker. */
  runtime: ActionRuntime;
  log?: Logger;
  /** Invocations handled at once by this invoker. Default 8. */
  maxConcurrent?: number;
  /** Durable consumer name, shared by every invoker of a deployment. Default `invoker`. */
  durable?: string;
  /** How long an invocation may go unacknowledged before the bus delivers it again. Default 30 s (kept alive while running). */
  ackWaitMs?: number;
  /**
   * Deliveries of an invocation that keeps failing inside the platform before it goes to the dead
   * letters; for a batch (an invocation of a batched rule), also runs of a failing action. Default 5.
   */
  maxDeliveries?: number;
  /** The `uuid:key` of a namespace, for actions annotated `provide-api-key`. */
  resolveApiKey?: (namespace: string) => Promise<string | undefined>;
}

const invocationSchema = z.object({
  activationId: z.string().refine(isActivationId, 'must be 32 lowercase hex characters'),
  namespace: z.string().min(1),
  action: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
  requestedAt: z.number(),
  cause: z.string().optional(),
  rule: z.string().optional(),
  eventId: z.string().optional(),
  eventIds: z.array(z.string()).max(RULE_BATCH_MAX_SIZE).optional(),
  subject: z.string().optional(),
});

/** When an invocation interrupted by a shutdown comes back (not at once: this invoker is going away). */
const INTERRUPTED_REDELIVERY_MS = 2_000;

/** When an invocation that failed inside the platform is delivered again: 1 s, doubling, at most 30 s. */
const RETRY_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000 };

/** Records computed but not yet stored (the store failed): a redelivery stores them instead of running again. */
const MAX_UNSTORED_RECORDS = 1000;

/**
 * Consumes invocations (`kindling.invoke.>`, durable consumer `invoker`), runs each action once,
 * stores its activation record, tells blocking callers (`kindling.done.<ns>.<id>`), then acks.
 * An invocation whose record already exists is acked without running: a redelivered
 * invocation runs no action twice.
 */
export class Invoker {
  private readonly log: Logger;
  private readonly inFlight = new Set<string>();
  private readonly unstored = new BoundedCache<string, ActivationRecord>(MAX_UNSTORED_RECORDS);
  private consumption: Consumption | null = null;
  private activations: ActivationStore | null = null;
  private recorder: ActivationRecorder | null = null;
  private executor: ActionExecutor | null = null;
  private actions: ActionBook | null = null;
  private readonly ackWaitMs: number;
  private readonly maxDeliveries: number;

  constructor(private readonly options: InvokerOptions) {
    this.log = options.log ?? silentLogger();
    this.ackWaitMs = options.ackWaitMs ?? 30_000;
    this.maxDeliveries = options.maxDeliveries ?? 5;
  }

  async start(): Promise<void> {
    if (this.consumption) return;
    const actions = new ActionBook(this.options.store, this.log);
    const [activations] = await Promise.all([this.options.activations ?? KeyValueActivationStore.open(this.options.store), actions.start()]);
    this.activations = activations;
    this.recorder = new ActivationRecorder(activations);
    this.actions = actions;
    this.executor = new ActionExecutor({
      runtime: this.options.runtime,
      actions,
      activations,
      onComponentRecord: (record) => this.notify(record),
      ...(this.options.resolveApiKey ? { resolveApiKey: this.options.resolveApiKey } : {}),
    });
    try {
      this.consumption = await this.options.bus.consume(
        {
          durable: this.options.durable ?? 'invoker',
          filter: Subjects.allInvocations,
          ackWaitMs: this.ackWaitMs,
          maxInFlight: this.options.maxConcurrent ?? 8,
        },
        (message) => this.handle(message),
      );
    } catch (error) {
      await actions.stop();
      throw error;
    }
    this.log.info({ runtime: this.options.runtime.name }, 'invoker started');
  }

  /**
   * Stops taking invocations and waits for those in flight (each bounded by its action's
   * timeout). Stopping the runtime first, or at the same time, cuts that wait short: the
   * interrupted invocations are left unacknowledged and delivered again later.
   */
  async stop(): Promise<void> {
    const consumption = this.consumption;
    this.consumption = null;
    await consumption?.stop();
    await this.actions?.stop();
    this.actions = null;
  }

  /**
   * Resolves once this invoker runs the action as written by the actions-bucket write that
   * returned `revision` (what `EntityStore.put` returns): for a caller that must know an update
   * is in force before it invokes.
   */
  reflects(revision: number): Promise<void> {
    return this.actions?.reflects(revision) ?? Promise.resolve();
  }

  private async handle(message: BusMessage): Promise<void> {
    let invocation: InvocationMessage;
    try {
      const parsed = parseWith(invocationSchema, decodeJson(message.data), { prefix: 'invocation' });
      invocation = { ...parsed, subject: parsed.subject ?? parsed.namespace };
    } catch (error) {
      await this.deadLetter(message, `malformed invocation: ${messageOf(error)}`);
      return;
    }
    const { activationId } = invocation;
    if (this.inFlight.has(activationId)) {
      // Delivered again while this invoker still runs it: look again once it should be done.
      message.nak(this.ackWaitMs);
      return;
    }
    this.inFlight.add(activationId);
    const heartbeat = setInterval(() => message.working(), Math.max(1_000, Math.floor(this.ackWaitMs / 3)));
    try {
      const unstored = this.unstored.get(activationId);
      if (await this.activations!.get(invocation.namespace, activationId)) {
        this.log.debug({ activationId }, 'invocation already ran; acknowledging the redelivery');
        message.ack();
        return;
      }
      const record = unstored ?? (await this.executor!.execute(invocation));
      if (invocation.eventIds) {
        record.eventIds = invocation.eventIds;
        if (!record.response.success && !unstored && (await this.retryBatch(message, record))) return;
      }
      await this.store(record);
      this.notify(record);
      if (invocation.eventIds && !record.response.success) {
        await this.deadLetter(message, `batch of ${invocation.eventIds.length} events failed ${message.deliveryCount} times: ${failureOf(record)}`);
        return;
      }
      message.ack();
      this.log.debug({ activationId, action: `/${invocation.namespace}/${invocation.action}`, status: record.response.status }, 'activation recorded');
    } catch (error) {
      if (error instanceof RuntimeStoppedError) {
        // Interrupted by a shutdown, not failed: another invoker, or this one restarted, runs it.
        this.log.info({ activationId }, 'runtime stopped under an invocation; leaving it to be delivered again');
        message.nak(INTERRUPTED_REDELIVERY_MS);
        return;
      }
      this.log.error({ activationId, err: messageOf(error), delivery: message.deliveryCount }, 'invocation failed inside the platform');
      if (message.deliveryCount >= this.maxDeliveries) await this.deadLetter(message, messageOf(error));
      else message.nak(backoffDelay(message.deliveryCount, RETRY_BACKOFF));
    } finally {
      clearInterval(heartbeat);
      this.inFlight.delete(activationId);
    }
  }

  /**
   * A batch whose action failed runs again as a whole, as an event source mapping retries a
   * batch, until its last delivery; returns false on that last one, whose record is then stored
   * and whose invocation goes to the dead letters.
   */
  private async retryBatch(message: BusMessage, record: ActivationRecord): Promise<boolean> {
    if (message.deliveryCount >= this.maxDeliveries) return false;
    const delayMs = backoffDelay(message.deliveryCount, RETRY_BACKOFF);
    this.log.warn(
      { activationId: record.activationId, events: record.eventIds?.length, delivery: message.deliveryCount, err: failureOf(record), retryInMs: delayMs },
      'batch failed; it will run again',
    );
    message.nak(delayMs);
    return true;
  }

  private async store(record: ActivationRecord): Promise<void> {
    try {
      await this.recorder!.record(record);
      this.unstored.delete(record.activationId);
    } catch (error) {
      this.unstored.set(record.activationId, record);
      throw error;
    }
  }

  private notify(record: ActivationRecord): void {
    this.options.bus.notify(Subjects.activationDone(record.namespace, record.activationId), encodeJson(record));
  }

  /** Parks a message that cannot be handled in the dead letters, with the reason, and drops it (or retries, if they cannot take it). */
  private async deadLetter(message: BusMessage, reason: string): Promise<void> {
    const outcome = await deadLetterMessage(this.options.bus, 'invoke', message, reason, RETRY_BACKOFF);
    if ('deadLetter' in outcome) this.log.error({ subject: message.subject, deadLetter: outcome.deadLetter, reason }, 'invocation sent to the dead letters');
    else this.log.error({ subject: message.subject, reason, err: messageOf(outcome.error), retryInMs: outcome.retryInMs }, 'could not dead-letter an invocation');
  }
}

/** The error a failed activation reports, in one line. */
function failureOf(record: ActivationRecord): string {
  const result = record.response.result as { error?: unknown } | undefined;
  const error = result && typeof result === 'object' && 'error' in result ? result.error : result;
  return `${record.response.status}: ${typeof error === 'string' ? error : JSON.stringify(error)}`;
}
