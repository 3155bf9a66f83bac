import { subjectMatches } from '@kindling/core';
import type { BusRecord } from './bus-records.js';

export interface StoredMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
  time: number;
  msgId?: string;
}

interface DedupEntry {
  seq: number;
  time: number;
  /** Resolves when the original message is durable: a duplicate is acked no sooner. */
  durable: Promise<void>;
}

export interface StreamConfig {
  name: string;
  subjects: readonly string[];
  workQueue: boolean;
  /** Messages older than this leave the stream; undefined keeps them. */
  maxAgeMs?: number;
  duplicateWindowMs: number;
}

/** One stream of the embedded bus: its messages by sequence, and its de-duplication window. */
export class EmbeddedStream {
  readonly messages = new Map<number, StoredMessage>();
  lastSeq = 0;
  /** Highest sequence whose record is durable: consumers see nothing beyond it. */
  durableSeq = 0;
  private readonly dedup = new Map<string, DedupEntry>();

  constructor(readonly config: StreamConfig) {}

  get name(): string {
    return this.config.name;
  }

  holds(subject: string): boolean {
    return this.config.subjects.some((filter) => subjectMatches(filter, subject));
  }

  /** The original of a message republished with `msgId` inside the window, if any. */
  duplicateOf(msgId: string, now: number): DedupEntry | undefined {
    this.forgetDedupBefore(now - this.config.duplicateWindowMs);
    return this.dedup.get(msgId);
  }

  /** Stores a new message and returns the record that makes it durable. */
  add(message: Omit<StoredMessage, 'seq'>, durable: (record: BusRecord) => Promise<void>): { seq: number; durable: Promise<void> } {
    const seq = ++this.lastSeq;
    const stored: StoredMessage = { ...message, seq };
    this.messages.set(seq, stored);
    const written = durable(toRecord(this.name, stored));
    if (message.msgId !== undefined) this.dedup.set(message.msgId, { seq, time: message.time, durable: written });
    return { seq, durable: written };
  }

  remove(seq: number): boolean {
    return this.messages.delete(seq);
  }

  /** Sequences of the messages older than the stream's max age. */
  expired(now: number): number[] {
    const maxAge = this.config.maxAgeMs;
    if (maxAge === undefined) return [];
    const old: number[] = [];
    for (const message of this.messages.values()) {
      if (message.time > now - maxAge) break; // insertion order is time order
      old.push(message.seq);
    }
    return old;
  }

  apply(record: BusRecord): void {
    switch (record.t) {
      case 'msg': {
        const message: StoredMessage = {
          seq: record.q,
          subject: record.j,
          data: new Uint8Array(Buffer.from(record.d, 'base64')),
          headers: record.h ?? {},
          time: record.ts,
          ...(record.i === undefined ? {} : { msgId: record.i }),
        };
        this.messages.set(record.q, message);
        if (record.i !== undefined) this.dedup.set(record.i, { seq: record.q, time: record.ts, durable: Promise.resolve() });
        this.advanceTo(record.q);
        break;
      }
      case 'rm':
        this.messages.delete(record.q);
        break;
      case 'dup':
        this.dedup.set(record.i, { seq: record.q, time: record.ts, durable: Promise.resolve() });
        break;
      case 'seq':
        this.advanceTo(record.q);
        break;
    }
  }

  /** Message records are made as they are written (see `SnapshotEntry`): stored messages never change. */
  snapshot(now: number): Array<BusRecord | (() => BusRecord)> {
    this.forgetDedupBefore(now - this.config.duplicateWindowMs);
    const records: Array<BusRecord | (() => BusRecord)> = [{ t: 'seq', s: this.name, q: this.lastSeq }];
    // De-dup entries first and in their order, which is time order (see forgetDedupBefore).
    for (const [msgId, entry] of this.dedup) records.push({ t: 'dup', s: this.name, i: msgId, q: entry.seq, ts: entry.time });
    for (const message of this.messages.values()) records.push(() => toRecord(this.name, message));
    return records;
  }

  private advanceTo(seq: number): void {
    this.lastSeq = Math.max(this.lastSeq, seq);
    this.durableSeq = this.lastSeq;
  }

  private forgetDedupBefore(cutoff: number): void {
    for (const [msgId, entry] of this.dedup) {
      if (entry.time > cutoff) break; // insertion order is time order
      this.dedup.delete(msgId);
    }
  }
}

function toRecord(stream: string, message: StoredMessage): BusRecord {
  return {
    t: 'msg',
    s: stream,
    q: message.seq,
    j: message.subject,
    d: Buffer.from(message.data).toString('base64'),
    ...(Object.keys(message.headers).length > 0 ? { h: message.headers } : {}),
    ...(message.msgId === undefined ? {} : { i: message.msgId }),
    ts: message.time,
  };
}
