import { messageOf, type Consumption, type Logger, type MessageHandler } from '@kindling/core';
import type { Consumer, ConsumerMessages, JsMsg } from 'nats';
import { NatsBusMessage } from './nats-bus-message.js';
import type { NatsScope } from './nats-scope.js';

/** How long one pull request waits on the server for messages before it is renewed. */
const FETCH_EXPIRES_MS = 10_000;
const RETRY_AFTER_ERROR_MS = 1_000;
/** Pause before asking again when the server ended a pull early with nothing (409 max ack pending). */
const RETRY_AFTER_EMPTY_MS = 250;

/**
 * One subscriber of a durable pull consumer. It asks the server for exactly as many messages as
 * it has free handler slots (`maxInFlight`), over overlapping pull requests, so that messages
 * are never buffered here while their ack wait runs, and the subscribers of one durable share
 * the load by how fast each of them frees its slots.
 */
export class NatsSubscriber implements Consumption {
  private inFlight = 0;
  /** Messages asked for by open pull requests and not received yet. */
  private requested = 0;
  private readonly fetches = new Set<ConsumerMessages>();
  private stopped = false;
  private whenIdle: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly durable: string,
    private readonly handler: MessageHandler,
    private readonly maxInFlight: number,
    private readonly scope: NatsScope,
    private readonly log: Logger,
  ) {}

  start(): this {
    this.refill();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    for (const fetch of this.fetches) fetch.stop();
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.whenIdle = resolve));
  }

  private refill(): void {
    if (this.stopped) return;
    const free = this.maxInFlight - this.inFlight - this.requested;
    // Ask again once a quarter of the slots are free, not for every single one.
    if (free <= 0 || (this.requested > 0 && free < Math.ceil(this.maxInFlight / 4))) return;
    this.requested += free;
    void this.pull(free);
  }

  private async pull(batch: number): Promise<void> {
    let received = 0;
    let failed = false;
    const started = Date.now();
    let fetch: ConsumerMessages | undefined;
    try {
      fetch = await this.consumer.fetch({ max_messages: batch, expires: FETCH_EXPIRES_MS });
      this.fetches.add(fetch);
      for await (const message of fetch) {
        received++;
        this.requested--;
        if (this.stopped) {
          message.nak(); // hand it straight to another subscriber
          continue;
        }
        this.inFlight++;
        void this.handle(message);
      }
    } catch (error) {
      failed = true;
      if (!this.stopped) this.log.warn({ consumer: this.durable, err: messageOf(error) }, 'pull request failed; retrying');
    } finally {
      if (fetch) this.fetches.delete(fetch);
      this.requested -= batch - received;
    }
    const endedEarlyEmpty = received === 0 && Date.now() - started < FETCH_EXPIRES_MS / 2;
    if (failed || endedEarlyEmpty) {
      this.retryTimer = setTimeout(() => this.refill(), failed ? RETRY_AFTER_ERROR_MS : RETRY_AFTER_EMPTY_MS);
      this.retryTimer.unref();
    } else {
      this.refill();
    }
  }

  private async handle(message: JsMsg): Promise<void> {
    try {
      await this.handler(new NatsBusMessage(message, this.scope.unscopedSubject(message.subject)));
    } catch (error) {
      // Left unsettled, the message comes back after the ack wait.
      this.log.error({ consumer: this.durable, subject: message.subject, seq: message.seq, err: messageOf(error) }, 'message handler failed');
    } finally {
      this.inFlight--;
      if (this.stopped && this.inFlight === 0) this.whenIdle?.();
      this.refill();
    }
  }
}
