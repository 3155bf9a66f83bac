/**
 * The event bus the platform is built on. Backends: NATS JetStream (`@kindling/nats`) and the
 * in-process embedded bus (`@kindling/embedded`). Both honour the same contract, which the
 * contract suite in `test/contract` checks:
 *
 * - `publish` resolves only once the message is durable (stored in its stream);
 * - a message published again with the same `msgId` inside the duplicate window is stored once;
 * - a consumer is durable and named; several subscribers of one consumer share its messages;
 * - a message not acked within `ackWaitMs` (or nak'ed) is delivered again, with a higher
 *   `deliveryCount`; `term` drops it for good.
 */
export interface EventBus {
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishAck>;
  /**
   * Opens (creating when absent) the durable consumer `options.durable` on the stream that
   * holds `options.filter`, and calls `handler` for each message. Up to `maxInFlight` handlers
   * run at once. The handler settles the message itself through `ack`, `nak` or `term`.
   */
  consume(options: ConsumeOptions, handler: MessageHandler): Promise<Consumption>;
  /**
   * Fire-and-forget notification, not stored (core NATS publish): how an invoker tells a
   * blocking caller that an activation finished. Nobody listening means nobody is told.
   */
  notify(subject: string, data: Uint8Array): void;
  listen(subject: string, handler: (data: Uint8Array, subject: string) => void): Listener;
  close(): Promise<void>;
}

export interface Listener {
  stop(): void;
}

export interface PublishOptions {
  /** De-duplication id (`Nats-Msg-Id`). */
  msgId?: string;
  headers?: Record<string, string>;
}

export interface PublishAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export interface ConsumeOptions {
  /** Durable consumer name: every subscriber with the same name shares the messages. */
  durable: string;
  /** Subject filter, wildcards allowed. */
  filter: string;
  /** How long a delivered message may stay unacknowledged before it is delivered again. */
  ackWaitMs?: number;
  /** Handlers in flight at once for this subscriber. */
  maxInFlight?: number;
  /**
   * Messages delivered and not yet settled that the durable may have out, for a subscriber that
   * holds messages past its handler (as the rule engine holds batched events until their batch
   * is durable). Default: `maxInFlight`. A server-side bound on NATS (`max_ack_pending`); the
   * embedded bus has none.
   */
  maxPending?: number;
}

export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  /** Stream sequence number of the message. */
  readonly seq: number;
  ack(): void;
  /** Deliver again, after `delayMs` when given. */
  nak(delayMs?: number): void;
  /** Never deliver again. */
  term(): void;
  /** Tell the bus the handler is still working, so that the ack deadline moves. */
  working(): void;
}

export type MessageHandler = (message: BusMessage) => Promise<void>;

export interface Consumption {
  /** Stops taking new messages and waits for the handlers in flight. */
  stop(): Promise<void>;
}

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJson<T = unknown>(data: Uint8Array): T {
  return JSON.parse(decoder.decode(data)) as T;
}
