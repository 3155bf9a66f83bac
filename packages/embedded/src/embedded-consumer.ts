import { messageOf, subjectMatches, type BusMessage, type Consumption, type Logger, type MessageHandler } from '@kindling/core';
import type { BusRecord } from './bus-records.js';
import type { EmbeddedStream, StoredMessage } from './embedded-stream.js';

interface PendingDelivery {
  /** Deliveries so far. */
  count: number;
  /** When to deliver again unless acked; Infinity once queued for redelivery. */
  deadline: number;
}

interface Subscriber {
  readonly handler: MessageHandler;
  readonly maxInFlight: number;
  inFlight: number;
  stopped: boolean;
  whenIdle?: () => void;
}

export interface ConsumerIo {
  /** Appends a record to the bus log (settlements need not wait for it). */
  record(record: BusRecord): Promise<void>;
  log: Logger;
}

/**
 * A durable consumer of the embedded bus: its position in the stream, the deliveries awaiting
 * an ack, and the subscribers that share its messages (each message goes to one of them).
 */
export class EmbeddedConsumer {
  /** Every message up to this sequence has been looked at. */
  position = 0;
  readonly pending = new Map<number, PendingDelivery>();
  private readonly redeliveries: number[] = [];
  private subscribers: Subscriber[] = [];
  private nextSubscriber = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(
    readonly name: string,
    readonly stream: EmbeddedStream,
    readonly filter: string,
    public ackWaitMs: number,
    private readonly io: ConsumerIo,
  ) {}

  subscribe(handler: MessageHandler, maxInFlight: number): Consumption {
    const subscriber: Subscriber = { handler, maxInFlight, inFlight: 0, stopped: false };
    this.subscribers.push(subscriber);
    this.pump();
    return {
      stop: () => {
        subscriber.stopped = true;
        this.subscribers = this.subscribers.filter((s) => s !== subscriber);
        if (subscriber.inFlight === 0) return Promise.resolve();
        return new Promise<void>((resolve) => (subscriber.whenIdle = resolve));
      },
    };
  }

  /** Stops every subscriber and the redelivery timer; waits for the handlers in flight. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timerAt = -Infinity; // never schedule again
    const idle = this.subscribers.map((subscriber) => {
      subscriber.stopped = true;
      return subscriber.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (subscriber.whenIdle = resolve));
    });
    this.subscribers = [];
    await Promise.all(idle);
  }

  /** Hands out messages while a subscriber has room and a message is due. */
  pump(): void {
    for (;;) {
      const subscriber = this.pickSubscriber();
      if (!subscriber) return;
      const message = this.nextMessage();
      if (!message) return;
      this.deliver(subscriber, message);
    }
  }

  apply(record: BusRecord): void {
    switch (record.t) {
      case 'pos':
        this.position = Math.max(this.position, record.q);
        break;
      case 'dlv':
        this.position = Math.max(this.position, record.q);
        // Whoever held it before a restart is gone: deliver again at once.
        this.pending.set(record.q, { count: record.c, deadline: 0 });
        break;
      case 'ack':
        this.pending.delete(record.q);
        break;
    }
  }

  /** Queues the deliveries read back from the log for redelivery. */
  resume(): void {
    this.onTimer();
  }

  snapshot(): BusRecord[] {
    const records: BusRecord[] = [
      { t: 'con', n: this.name, s: this.stream.name, f: this.filter, w: this.ackWaitMs },
      { t: 'pos', n: this.name, q: this.position },
    ];
    for (const [seq, delivery] of this.pending) records.push({ t: 'dlv', n: this.name, q: seq, c: delivery.count });
    return records;
  }

  private pickSubscriber(): Subscriber | undefined {
    for (let i = 0; i < this.subscribers.length; i++) {
      const index = (this.nextSubscriber + i) % this.subscribers.length;
      const subscriber = this.subscribers[index];
      if (subscriber && subscriber.inFlight < subscriber.maxInFlight) {
        this.nextSubscriber = index + 1;
        return subscriber;
      }
    }
    return undefined;
  }

  private nextMessage(): StoredMessage | undefined {
    while (this.redeliveries.length > 0) {
      const seq = this.redeliveries.shift() as number;
      const message = this.stream.messages.get(seq);
      // Acked, or given more time (`working`) since it was queued.
      if (this.pending.get(seq)?.deadline !== Infinity) continue;
      if (message) return message;
      this.done(seq); // it left the stream (too old) while awaiting redelivery
    }
    while (this.position < this.stream.durableSeq) {
      const message = this.stream.messages.get(++this.position);
      if (message && subjectMatches(this.filter, message.subject)) return message;
    }
    return undefined;
  }

  private deliver(subscriber: Subscriber, message: StoredMessage): void {
    const count = (this.pending.get(message.seq)?.count ?? 0) + 1;
    const deadline = Date.now() + this.ackWaitMs;
    this.pending.set(message.seq, { count, deadline });
    void this.io.record({ t: 'dlv', n: this.name, q: message.seq, c: count }).catch(() => undefined);
    this.schedule(deadline);
    subscriber.inFlight++;
    const delivered = this.delivery(message, count);
    setImmediate(() => void this.run(subscriber, delivered));
  }

  private async run(subscriber: Subscriber, message: BusMessage): Promise<void> {
    try {
      await subscriber.handler(message);
    } catch (error) {
      // Left unsettled, the message comes back after the ack wait.
      this.io.log.error({ consumer: this.name, subject: message.subject, seq: message.seq, err: messageOf(error) }, 'message handler failed');
    } finally {
      subscriber.inFlight--;
      if (subscriber.stopped && subscriber.inFlight === 0) subscriber.whenIdle?.();
      this.pump();
    }
  }

  private delivery(message: StoredMessage, count: number): BusMessage {
    let settled = false;
    /** Only the latest delivery may nak or extend; any delivery may ack. */
    const current = () => !settled && this.pending.get(message.seq)?.count === count;
    return {
      subject: message.subject,
      data: message.data,
      headers: message.headers,
      deliveryCount: count,
      seq: message.seq,
      ack: () => {
        if (settled) return;
        settled = true;
        this.done(message.seq);
      },
      term: () => {
        if (settled) return;
        settled = true;
        this.done(message.seq);
      },
      nak: (delayMs?: number) => {
        if (!current()) return;
        settled = true;
        this.retryAt(message.seq, Date.now() + Math.max(0, delayMs ?? 0));
      },
      working: () => {
        if (!current()) return;
        this.retryAt(message.seq, Date.now() + this.ackWaitMs);
      },
    };
  }

  private done(seq: number): void {
    if (!this.pending.delete(seq)) return;
    void this.io.record({ t: 'ack', n: this.name, q: seq }).catch(() => undefined);
    if (this.stream.config.workQueue && this.stream.remove(seq)) {
      void this.io.record({ t: 'rm', s: this.stream.name, q: seq }).catch(() => undefined);
    }
  }

  private retryAt(seq: number, at: number): void {
    const delivery = this.pending.get(seq);
    if (!delivery) return;
    if (at <= Date.now()) {
      if (delivery.deadline === Infinity) return; // already queued
      delivery.deadline = Infinity;
      this.redeliveries.push(seq);
      this.pump();
    } else {
      delivery.deadline = at;
      this.schedule(at);
    }
  }

  private schedule(at: number): void {
    if (at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  /** Queues every delivery whose deadline passed, in stream order, and re-arms the timer. */
  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    let nextAt = Infinity;
    const due: number[] = [];
    for (const [seq, delivery] of this.pending) {
      if (delivery.deadline <= now) {
        delivery.deadline = Infinity;
        due.push(seq);
      } else if (delivery.deadline < nextAt) {
        nextAt = delivery.deadline;
      }
    }
    this.redeliveries.push(...due.sort((a, b) => a - b));
    if (nextAt < Infinity) this.schedule(nextAt);
    this.pump();
  }
}
