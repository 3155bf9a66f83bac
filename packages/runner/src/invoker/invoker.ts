import {
  BoundedCache,
  KeyValueActivationStore,
  type ActivationStore,
  EntityStore,
  Subjects,
  backoffDelay,
  deadLetterMessage,
  decodeJson,
  encodeJson,
  isActivationId,
  messageOf,
  parseWith,
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
  /** Deliveries of an invocation that keeps failing inside the platform before it goes to the dead letters. Default 5. */
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
  private executor: ActionExecutor | null = null;
  private readonly ackWaitMs: number;

  constructor(private readonly options: InvokerOptions) {
    this.log = options.log ?? silentLogger();
    this.ackWaitMs = options.ackWaitMs ?? 30_000;
  }

  async start(): Promise<void> {
    if (this.consumption) return;
    const [entities, activations] = await Promise.all([EntityStore.open(this.options.store), this.options.activations ?? KeyValueActivationStore.open(this.options.store)]);
    this.activations = activations;
    this.executor = new ActionExecutor({
      runtime: this.options.runtime,
      entities,
      activations,
      onComponentRecord: (record) => this.notify(record),
      ...(this.options.resolveApiKey ? { resolveApiKey: this.options.resolveApiKey } : {}),
    });
    this.consumption = await this.options.bus.consume(
      {
        durable: this.options.durable ?? 'invoker',
        filter: Subjects.allInvocations,
        ackWaitMs: this.ackWaitMs,
        maxInFlight: this.options.maxConcurrent ?? 8,
      },
      (message) => this.handle(message),
    );
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
      // The action is read alongside the has-it-run check, so that a first delivery costs one
      // store round trip before the run, not two.
      const lookup = unstored ? undefined : this.executor!.lookup(invocation);
      lookup?.catch(() => undefined);
      if (await this.activations!.get(invocation.namespace, activationId)) {
        this.log.debug({ activationId }, 'invocation already ran; acknowledging the redelivery');
        message.ack();
        return;
      }
      const record = unstored ?? (await this.executor!.execute(invocation, lookup));
      await this.store(record);
      this.notify(record);
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
      if (message.deliveryCount >= (this.options.maxDeliveries ?? 5)) await this.deadLetter(message, messageOf(error));
      else message.nak(backoffDelay(message.deliveryCount, RETRY_BACKOFF));
    } finally {
      clearInterval(heartbeat);
      this.inFlight.delete(activationId);
    }
  }

  private async store(record: ActivationRecord): Promise<void> {
    try {
      await this.activations!.put(record);
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
