import type { Database, Statement } from 'better-sqlite3';
import {
  allStreams,
  assertFilter,
  assertPayloadSize,
  assertSubject,
  checkConsumeOptions,
  DEFAULT_ACK_WAIT_MS,
  DUPLICATE_WINDOW_MS,
  filtersOverlap,
  KindlingError,
  messageOf,
  Streams,
  streamOfSubject,
  subjectMatches,
  type Clock,
  type ConsumeOptions,
  type Consumption,
  type EventBus,
  type Listener,
  type Logger,
  type MessageHandler,
  type PublishAck,
  type PublishOptions,
} from '@kindling/core';
import { EmbeddedConsumer, type ConsumerState } from './embedded-consumer.js';
import { EmbeddedStream, SLICE_ROWS } from './embedded-stream.js';
import type { GroupedWriter } from './grouped-writer.js';

export interface StreamInfo {
  messages: number;
  lastSeq: number;
}

export interface EmbeddedBusOptions {
  db: Database;
  writer: GroupedWriter;
  eventsMaxAgeMs: number;
  /** When messages are published, as their age and the duplicate window are measured. */
  clock: Clock;
  log: Logger;
}

interface Subscription {
  filter: string;
  handler: (data: Uint8Array, subject: string) => void;
}

/** How often expired events and msgIds past the duplicate window are looked for, at most. */
const PRUNE_INTERVAL_MS = 1_000;

/**
 * The in-process event bus on SQLite: the streams of core's `Streams`, durable consumers with
 * acks and redelivery, de-duplication by msgId. Messages live in the database only; publishes
 * of one turn commit together.
 */
export class EmbeddedBus implements EventBus {
  private readonly streams = new Map<string, EmbeddedStream>();
  private readonly consumers = new Map<string, EmbeddedConsumer>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly db: Database;
  private readonly writer: GroupedWriter;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly statements: {
    addConsumer: Statement<[string, string, string, number]>;
    saveAckWait: Statement<[number, string]>;
    pruneMsgIds: Statement<[number, number]>;
  };
  private closed = false;

  constructor(options: EmbeddedBusOptions) {
    const { db, writer, log } = options;
    this.db = db;
    this.writer = writer;
    this.log = log;
    this.clock = options.clock;
    for (const definition of allStreams) {
      const maxAgeMs = definition.name === Streams.events.name ? options.eventsMaxAgeMs : undefined;
      this.streams.set(definition.name, new EmbeddedStream(definition, db, writer, maxAgeMs));
    }
    this.statements = {
      addConsumer: db.prepare('INSERT INTO bus_consumers (name, stream, filter, ack_wait_ms, position) VALUES (?, ?, ?, ?, 0)'),
      saveAckWait: db.prepare('UPDATE bus_consumers SET ack_wait_ms = ? WHERE name = ?'),
      pruneMsgIds: db.prepare('DELETE FROM bus_msg_ids WHERE (stream, msg_id) IN (SELECT stream, msg_id FROM bus_msg_ids WHERE time <= ? ORDER BY time LIMIT ?)'),
    };
    const saved = db.prepare<[], ConsumerState & { stream: string }>('SELECT name, stream, filter, ack_wait_ms AS ackWaitMs, position FROM bus_consumers').all();
    for (const state of saved) {
      const stream = this.streams.get(state.stream);
      if (!stream) throw new KindlingError('KND_STORE_UNAVAILABLE', `${db.name} names a consumer '${state.name}' on an unknown stream ${state.stream}.`);
      this.consumers.set(state.name, new EmbeddedConsumer(state, stream, db, writer, log));
    }
    this.pruneTimer = setInterval(() => this.prune(), Math.min(options.eventsMaxAgeMs, PRUNE_INTERVAL_MS));
    this.pruneTimer.unref();
    this.prune();
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    this.assertOpen();
    const stream = this.streams.get(streamOfSubject(subject).name) as EmbeddedStream;
    assertPayloadSize(data);
    const now = this.clock.now();
    const { msgId } = options;
    if (msgId !== undefined) {
      const original = stream.duplicateOf(msgId, now - DUPLICATE_WINDOW_MS);
      if (original !== undefined) {
        // The original may still be in this turn's transaction: a duplicate is acked no sooner.
        if (original > stream.durableSeq) await this.writer.committed();
        return { stream: stream.name, seq: original, duplicate: true };
      }
    }
    const headers = msgId === undefined ? (options.headers ?? {}) : { ...options.headers, 'Nats-Msg-Id': msgId };
    const seq = await this.writer.write(() => {
      const appended = stream.append(subject, data, headers, msgId, now);
      this.writer.afterCommit(`publish:${stream.name}`, () => this.committed(stream));
      return appended;
    });
    return { stream: stream.name, seq, duplicate: false };
  }

  async consume(options: ConsumeOptions, handler: MessageHandler): Promise<Consumption> {
    this.assertOpen();
    const { durable, filter, ackWaitMs, maxInFlight, stream: definition } = checkConsumeOptions(options);
    let consumer = this.consumers.get(durable);
    if (consumer) {
      if (consumer.filter !== filter) {
        throw new KindlingError('KND_CONFLICT', `consumer '${durable}' already exists with filter ${consumer.filter}, not ${filter}.`, { field: 'consume.filter' });
      }
      if (ackWaitMs !== undefined && ackWaitMs !== consumer.ackWaitMs) {
        consumer.ackWaitMs = ackWaitMs;
        const name = durable;
        await this.writer.write(() => this.statements.saveAckWait.run(ackWaitMs, name));
      }
    } else {
      const stream = this.streams.get(definition.name) as EmbeddedStream;
      if (stream.workQueue) {
        // As on JetStream: a work queue hands each message to exactly one consumer.
        const rival = [...this.consumers.values()].find((c) => c.stream === stream && filtersOverlap(c.filter, filter));
        if (rival) throw new KindlingError('KND_CONFLICT', `work-queue stream ${stream.name} already has consumer '${rival.name}' on an overlapping filter (${rival.filter}).`, { field: 'consume.filter' });
      }
      const state: ConsumerState = { name: durable, filter, ackWaitMs: ackWaitMs ?? DEFAULT_ACK_WAIT_MS, position: 0 };
      // Its row is in the turn's transaction at once, so a second subscriber of the same name in
      // this turn finds the consumer rather than inserting it again.
      const created = this.writer.write(() => this.statements.addConsumer.run(durable, stream.name, filter, state.ackWaitMs));
      consumer = new EmbeddedConsumer(state, stream, this.db, this.writer, this.log);
      this.consumers.set(durable, consumer);
      await created;
    }
    return consumer.subscribe(handler, maxInFlight);
  }

  /** How many messages stream `name` (as core's `Streams` names it) holds, and its last sequence. */
  streamInfo(name: string): Promise<StreamInfo> {
    const stream = this.streams.get(name);
    if (!stream) return Promise.reject(new KindlingError('KND_NOT_FOUND', `stream ${name} does not exist.`, { field: 'stream' }));
    return Promise.resolve({ messages: stream.messages, lastSeq: stream.lastSeq });
  }

  notify(subject: string, data: Uint8Array): void {
    assertSubject(subject);
    for (const subscription of this.subscriptions) {
      if (!subjectMatches(subscription.filter, subject)) continue;
      setImmediate(() => {
        try {
          subscription.handler(data, subject);
        } catch (error) {
          this.log.error({ subject, err: messageOf(error) }, 'notification listener failed');
        }
      });
    }
  }

  listen(subject: string, handler: (data: Uint8Array, subject: string) => void): Listener {
    assertFilter(subject, 'subject');
    const subscription: Subscription = { filter: subject, handler };
    this.subscriptions.add(subscription);
    return { stop: () => void this.subscriptions.delete(subscription) };
  }

  /** Stops the consumers (waiting for their handlers); the writer and database are the backend's to close. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pruneTimer);
    this.subscriptions.clear();
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.close()));
  }

  /** Right after a commit every sequence handed out is durable: consumers may read up to it. */
  private committed(stream: EmbeddedStream): void {
    stream.durableSeq = stream.lastSeq;
    for (const consumer of this.consumers.values()) if (consumer.stream === stream) consumer.pump();
  }

  /** Deletes a slice of expired events and of msgIds past the window; goes on at once while there is more. */
  private prune(): void {
    if (this.closed) return;
    const now = this.clock.now();
    let more = false;
    try {
      for (const stream of this.streams.values()) more = stream.expireSlice(now) || more;
      this.writer.writeUnawaited(() => {
        if (this.statements.pruneMsgIds.run(now - DUPLICATE_WINDOW_MS, SLICE_ROWS).changes === SLICE_ROWS) more = true;
      });
    } catch (error) {
      this.log.warn({ err: messageOf(error) }, 'pruning the bus failed; trying again later');
      return;
    }
    if (more) setImmediate(() => this.prune());
  }

  private assertOpen(): void {
    if (this.closed) throw new KindlingError('KND_BUS_UNAVAILABLE', 'the embedded bus is closed.');
  }
}
