import { join } from 'node:path';
import {
  assertFilter,
  assertSubject,
  filterCovers,
  filtersOverlap,
  KindlingError,
  messageOf,
  parseWith,
  Streams,
  subjectMatches,
  z,
  type ConsumeOptions,
  type Consumption,
  type EventBus,
  type Listener,
  type Logger,
  type MessageHandler,
  type PublishAck,
  type PublishOptions,
} from '@kindling/core';
import type { BusRecord } from './bus-records.js';
import { assertPayloadSize } from './payload-size.js';
import { EmbeddedConsumer } from './embedded-consumer.js';
import { EmbeddedStream } from './embedded-stream.js';
import { FileRecordLog, memoryRecordLog, readRecords, type RecordLog } from './record-log.js';

export const DUPLICATE_WINDOW_MS = 2 * 60_000;
export const DEFAULT_ACK_WAIT_MS = 30_000;

export interface StreamInfo {
  messages: number;
  lastSeq: number;
}

export interface EmbeddedBusOptions {
  /** Directory of the bus log; none keeps everything in memory. */
  dir?: string;
  fsync: boolean;
  eventsMaxAgeMs?: number;
  log: Logger;
}

const consumeOptionsSchema = z.strictObject({
  durable: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ and - only'),
  filter: z.string().min(1),
  ackWaitMs: z.number().int().positive().optional(),
  maxInFlight: z.number().int().positive().optional(),
  maxPending: z.number().int().positive().optional(),
});

interface Subscription {
  filter: string;
  handler: (data: Uint8Array, subject: string) => void;
}

/**
 * The in-process event bus: the streams of core's `Streams`, durable consumers with acks and
 * redelivery, de-duplication by msgId, all persisted to one record log when given a directory.
 */
export class EmbeddedBus implements EventBus {
  private readonly streams: EmbeddedStream[];
  private readonly consumers = new Map<string, EmbeddedConsumer>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly expiryTimer: NodeJS.Timeout | undefined;
  private records: RecordLog = memoryRecordLog;
  private closed = false;

  private constructor(private readonly options: EmbeddedBusOptions) {
    this.streams = Object.values(Streams).map(
      (stream) =>
        new EmbeddedStream({
          name: stream.name,
          subjects: stream.subjects,
          workQueue: 'workQueue' in stream && stream.workQueue,
          duplicateWindowMs: DUPLICATE_WINDOW_MS,
          ...(stream.name === Streams.events.name && options.eventsMaxAgeMs !== undefined ? { maxAgeMs: options.eventsMaxAgeMs } : {}),
        }),
    );
    if (options.eventsMaxAgeMs !== undefined) {
      this.expiryTimer = setInterval(() => this.expireOldMessages(), Math.min(options.eventsMaxAgeMs, 60_000));
      this.expiryTimer.unref();
    }
  }

  static async open(options: EmbeddedBusOptions): Promise<EmbeddedBus> {
    const bus = new EmbeddedBus(options);
    if (options.dir !== undefined) {
      const path = join(options.dir, 'bus.log');
      for (const record of await readRecords(path, options.log)) bus.apply(record as BusRecord);
      bus.expireOldMessages();
      bus.records = await FileRecordLog.open(path, { fsync: options.fsync, log: options.log, snapshot: () => bus.snapshot() });
      for (const consumer of bus.consumers.values()) consumer.resume();
    }
    return bus;
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    this.assertOpen();
    assertSubject(subject);
    const stream = this.streams.find((s) => s.holds(subject));
    if (!stream) throw new KindlingError('KND_VALIDATION', `'subject' ${subject} belongs to no stream (${this.streamSubjects()}).`, { field: 'subject' });
    assertPayloadSize(data);
    const now = Date.now();
    if (options.msgId !== undefined) {
      const original = stream.duplicateOf(options.msgId, now);
      if (original) {
        await original.durable;
        return { stream: stream.name, seq: original.seq, duplicate: true };
      }
    }
    const headers = { ...options.headers, ...(options.msgId === undefined ? {} : { 'Nats-Msg-Id': options.msgId }) };
    const { seq, durable } = stream.add(
      { subject, data: new Uint8Array(data), headers, time: now, ...(options.msgId === undefined ? {} : { msgId: options.msgId }) },
      (record) => this.records.append(record),
    );
    await durable.then(() => {
      stream.durableSeq = Math.max(stream.durableSeq, seq);
      for (const consumer of this.consumers.values()) if (consumer.stream === stream) consumer.pump();
    });
    return { stream: stream.name, seq, duplicate: false };
  }

  async consume(options: ConsumeOptions, handler: MessageHandler): Promise<Consumption> {
    this.assertOpen();
    const { durable, filter, ackWaitMs, maxInFlight } = parseWith(consumeOptionsSchema, options, { prefix: 'consume' });
    assertFilter(filter, 'consume.filter');
    let consumer = this.consumers.get(durable);
    if (consumer) {
      if (consumer.filter !== filter) {
        throw new KindlingError('KND_CONFLICT', `consumer '${durable}' already exists with filter ${consumer.filter}, not ${filter}.`, { field: 'consume.filter' });
      }
      if (ackWaitMs !== undefined && ackWaitMs !== consumer.ackWaitMs) {
        consumer.ackWaitMs = ackWaitMs;
        await this.records.append(consumer.snapshot()[0] as BusRecord);
      }
    } else {
      consumer = this.createConsumer(durable, filter, ackWaitMs ?? DEFAULT_ACK_WAIT_MS);
      await this.records.append(consumer.snapshot()[0] as BusRecord);
    }
    return consumer.subscribe(handler, maxInFlight ?? 1);
  }

  /** How many messages stream `name` (as core's `Streams` names it) holds, and its last sequence. */
  streamInfo(name: string): Promise<StreamInfo> {
    const stream = this.streams.find((s) => s.name === name);
    if (!stream) return Promise.reject(new KindlingError('KND_NOT_FOUND', `stream ${name} does not exist.`, { field: 'stream' }));
    return Promise.resolve({ messages: stream.messages.size, lastSeq: stream.lastSeq });
  }

  notify(subject: string, data: Uint8Array): void {
    assertSubject(subject);
    for (const subscription of this.subscriptions) {
      if (!subjectMatches(subscription.filter, subject)) continue;
      setImmediate(() => {
        try {
          subscription.handler(data, subject);
        } catch (error) {
          this.options.log.error({ subject, err: messageOf(error) }, 'notification listener failed');
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.expiryTimer);
    this.subscriptions.clear();
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.close()));
    await this.records.close();
  }

  private createConsumer(durable: string, filter: string, ackWaitMs: number): EmbeddedConsumer {
    const stream = this.streams.find((s) => s.config.subjects.some((subjects) => filterCovers(subjects, filter)));
    if (!stream) throw new KindlingError('KND_VALIDATION', `'consume.filter' ${filter} is not inside one stream (${this.streamSubjects()}).`, { field: 'consume.filter' });
    if (stream.config.workQueue) {
      // As on JetStream: a work queue hands each message to exactly one consumer.
      const rival = [...this.consumers.values()].find((c) => c.stream === stream && filtersOverlap(c.filter, filter));
      if (rival) throw new KindlingError('KND_CONFLICT', `work-queue stream ${stream.name} already has consumer '${rival.name}' on an overlapping filter (${rival.filter}).`, { field: 'consume.filter' });
    }
    const consumer = new EmbeddedConsumer(durable, stream, filter, ackWaitMs, { record: (record) => this.records.append(record), log: this.options.log });
    this.consumers.set(durable, consumer);
    return consumer;
  }

  private apply(record: BusRecord): void {
    if (record.t === 'con') {
      const existing = this.consumers.get(record.n);
      if (existing) existing.ackWaitMs = record.w;
      else this.consumers.set(record.n, this.restoredConsumer(record));
      return;
    }
    if ('s' in record) this.streams.find((s) => s.name === record.s)?.apply(record);
    else this.consumers.get(record.n)?.apply(record);
  }

  private restoredConsumer(record: Extract<BusRecord, { t: 'con' }>): EmbeddedConsumer {
    const stream = this.streams.find((s) => s.name === record.s);
    if (!stream) throw new KindlingError('KND_STORE_UNAVAILABLE', `the bus log names an unknown stream ${record.s}.`);
    return new EmbeddedConsumer(record.n, stream, record.f, record.w, { record: (r) => this.records.append(r), log: this.options.log });
  }

  private snapshot(): Array<BusRecord | (() => BusRecord)> {
    const now = Date.now();
    return [...this.streams.flatMap((stream) => stream.snapshot(now)), ...[...this.consumers.values()].flatMap((consumer) => consumer.snapshot())];
  }

  private expireOldMessages(): void {
    const now = Date.now();
    for (const stream of this.streams) {
      for (const seq of stream.expired(now)) {
        stream.remove(seq);
        void this.records.append({ t: 'rm', s: stream.name, q: seq }).catch(() => undefined);
      }
    }
  }

  private streamSubjects(): string {
    return this.streams.flatMap((s) => s.config.subjects).join(', ');
  }

  private assertOpen(): void {
    if (this.closed) throw new KindlingError('KND_BUS_UNAVAILABLE', 'the embedded bus is closed.');
  }
}
