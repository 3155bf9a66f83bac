import type { Database, Statement } from 'better-sqlite3';
import { messageOf, subjectMatches, type BusMessage, type Consumption, type Logger, type MessageHandler } from '@kindling/core';
import type { EmbeddedStream, StoredMessage } from './embedded-stream.js';
import type { GroupedWriter } from './grouped-writer.js';

interface PendingDelivery {
  /** Deliveries so far. */
  count: number;
  /** When to deliver again unless settled; Infinity once queued for redelivery. */
  deadline: number;
}

interface Subscriber {
  readonly handler: MessageHandler;
  readonly maxInFlight: number;
  inFlight: number;
  stopped: boolean;
  whenIdle?: () => void;
}

/** Messages read from the stream ahead of delivery, at most. */
const READ_AHEAD = 64;

export interface ConsumerState {
  name: string;
  filter: string;
  ackWaitMs: number;
  position: number;
}

/**
 * A durable consumer of the embedded bus. Its position and its unsettled deliveries are rows
 * (`bus_consumers`, `bus_deliveries`); in memory it keeps only those deliveries (as many as
 * its subscribers hold, or that wait for a nak's delay) and a few messages read ahead.
 */
export class EmbeddedConsumer {
  readonly name: string;
  readonly filter: string;
  ackWaitMs: number;
  /** Every message up to this sequence was delivered or skipped (kept in `bus_consumers`). */
  private position: number;
  /** How far the stream was read into `readAhead`. */
  private scanned: number;
  private readAhead: StoredMessage[] = [];
  private readonly pending = new Map<number, PendingDelivery>();
  private readonly redeliveries: number[] = [];
  private subscribers: Subscriber[] = [];
  private nextSubscriber = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly statements: {
    savePosition: Statement<[number, string]>;
    saveDelivery: Statement<[string, number, number]>;
    removeDelivery: Statement<[string, number]>;
  };

  constructor(
    state: ConsumerState,
    readonly stream: EmbeddedStream,
    db: Database,
    private readonly writer: GroupedWriter,
    private readonly log: Logger,
  ) {
    this.name = state.name;
    this.filter = state.filter;
    this.ackWaitMs = state.ackWaitMs;
    this.position = state.position;
    this.scanned = state.position;
    this.statements = {
      savePosition: db.prepare('UPDATE bus_consumers SET position = ? WHERE name = ?'),
      saveDelivery: db.prepare('INSERT OR REPLACE INTO bus_deliveries (consumer, seq, count) VALUES (?, ?, ?)'),
      removeDelivery: db.prepare('DELETE FROM bus_deliveries WHERE consumer = ? AND seq = ?'),
    };
    // Whoever held these before a restart is gone: they are delivered again at once.
    for (const row of db.prepare<[string], { seq: number; count: number }>('SELECT seq, count FROM bus_deliveries WHERE consumer = ? ORDER BY seq').iterate(this.name)) {
      this.pending.set(row.seq, { count: row.count, deadline: Infinity });
      this.redeliveries.push(row.seq);
    }
  }

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
      // Settled, or given more time (`working`) since it was queued.
      if (this.pending.get(seq)?.deadline !== Infinity) continue;
      const message = this.stream.read(seq);
      if (message) return message;
      this.done(seq); // it left the stream (too old) while awaiting redelivery
    }
    for (;;) {
      const message = this.readAhead.shift();
      if (message) {
        this.advanceTo(message.seq);
        return message;
      }
      if (this.scanned >= this.stream.durableSeq) {
        this.advanceTo(this.scanned);
        return undefined;
      }
      const slice = this.stream.readAfter(this.scanned, READ_AHEAD);
      this.scanned = slice.length < READ_AHEAD ? this.stream.durableSeq : (slice[slice.length - 1] as StoredMessage).seq;
      this.readAhead = slice.filter((m) => subjectMatches(this.filter, m.subject));
    }
  }

  private advanceTo(seq: number): void {
    if (seq <= this.position) return;
    this.position = seq;
    this.writer.beforeCommit(`position:${this.name}`, () => this.statements.savePosition.run(this.position, this.name));
  }

  private deliver(subscriber: Subscriber, message: StoredMessage): void {
    const count = (this.pending.get(message.seq)?.count ?? 0) + 1;
    const deadline = Date.now() + this.ackWaitMs;
    this.pending.set(message.seq, { count, deadline });
    this.writer.writeUnawaited(() => this.statements.saveDelivery.run(this.name, message.seq, count));
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
      this.log.error({ consumer: this.name, subject: message.subject, seq: message.seq, err: messageOf(error) }, 'message handler failed');
    } finally {
      subscriber.inFlight--;
      if (subscriber.stopped && subscriber.inFlight === 0) subscriber.whenIdle?.();
      try {
        this.pump();
      } catch (error) {
        // Reading the stream failed (the database is unusable): say so rather than stall unseen.
        this.log.error({ consumer: this.name, err: messageOf(error) }, 'delivering the next messages failed');
      }
    }
  }

  private delivery(message: StoredMessage, count: number): BusMessage {
    let settled = false;
    /** Only the latest delivery may nak or extend; any delivery may ack. */
    const current = () => !settled && this.pending.get(message.seq)?.count === count;
    const finish = () => {
      if (settled) return;
      settled = true;
      this.done(message.seq);
    };
    return {
      subject: message.subject,
      data: message.data,
      headers: message.headers,
      deliveryCount: count,
      seq: message.seq,
      ack: finish,
      term: finish,
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
    this.writer.writeUnawaited(() => this.statements.removeDelivery.run(this.name, seq));
    if (this.stream.workQueue) this.stream.remove(seq);
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
