import type { Database, Statement } from 'better-sqlite3';
import { isWorkQueue, subjectMatches, type StreamDefinition } from '@kindling/core';
import { streamTable, streamTableDdl } from './backend-schema.js';
import type { GroupedWriter } from './grouped-writer.js';
import { ownBytes } from './own-bytes.js';

export interface StoredMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
}

interface MessageRow {
  seq: number;
  subject: string;
  data: Buffer;
  headers: string | null;
}

/** Rows read or deleted per statement while scanning or expiring: bounds memory and pauses. */
export const SLICE_ROWS = 256;

/**
 * One stream of the embedded bus, in its table (`streamTable`). In memory only its last sequence, the last
 * one committed (consumers see nothing beyond it) and its message count.
 */
export class EmbeddedStream {
  lastSeq: number;
  /** Highest sequence committed: consumers read no further. */
  durableSeq: number;
  messages: number;
  readonly workQueue: boolean;
  private readonly statements: {
    insert: Statement<[number, string, Buffer, string | null, number]>;
    insertMsgId: Statement<[string, string, number, number]>;
    findMsgId: Statement<[string, string, number], { seq: number }>;
    saveLastSeq: Statement<[string, number]>;
    readAfter: Statement<[number, number, number], MessageRow>;
    readOne: Statement<[number], MessageRow>;
    remove: Statement<[number]>;
    oldest: Statement<[number], { seq: number; time: number }>;
    removeUpTo: Statement<[number]>;
  };

  constructor(
    readonly definition: StreamDefinition,
    db: Database,
    private readonly writer: GroupedWriter,
    /** Messages older than this leave the stream; undefined keeps them. */
    readonly maxAgeMs: number | undefined,
  ) {
    this.workQueue = isWorkQueue(definition);
    db.exec(streamTableDdl(definition.name));
    const table = streamTable(definition.name);
    this.statements = {
      insert: db.prepare(`INSERT INTO ${table} (seq, subject, data, headers, time) VALUES (?, ?, ?, ?, ?)`),
      insertMsgId: db.prepare('INSERT OR REPLACE INTO bus_msg_ids (stream, msg_id, seq, time) VALUES (?, ?, ?, ?)'),
      findMsgId: db.prepare('SELECT seq FROM bus_msg_ids WHERE stream = ? AND msg_id = ? AND time > ?'),
      saveLastSeq: db.prepare('INSERT INTO bus_streams (name, last_seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_seq = excluded.last_seq'),
      readAfter: db.prepare(`SELECT seq, subject, data, headers FROM ${table} WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`),
      readOne: db.prepare(`SELECT seq, subject, data, headers FROM ${table} WHERE seq = ?`),
      remove: db.prepare(`DELETE FROM ${table} WHERE seq = ?`),
      oldest: db.prepare(`SELECT seq, time FROM ${table} ORDER BY seq LIMIT ?`),
      removeUpTo: db.prepare(`DELETE FROM ${table} WHERE seq <= ?`),
    };
    const saved = db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM bus_streams WHERE name = ?').get(this.name)?.last_seq ?? 0;
    const stored = db.prepare<[], { last: number | null; count: number }>(`SELECT max(seq) AS last, count(*) AS count FROM ${table}`).get();
    this.lastSeq = Math.max(saved, stored?.last ?? 0);
    this.durableSeq = this.lastSeq;
    this.messages = stored?.count ?? 0;
  }

  get name(): string {
    return this.definition.name;
  }

  holds(subject: string): boolean {
    return this.definition.subjects.some((filter) => subjectMatches(filter, subject));
  }

  /** The sequence of the message stored with `msgId` after `since`, if any (committed or not). */
  duplicateOf(msgId: string, since: number): number | undefined {
    return this.statements.findMsgId.get(this.name, msgId, since)?.seq;
  }

  /** Stores a message in the current transaction; its sequence is durable once that commits. */
  append(subject: string, data: Uint8Array, headers: Record<string, string>, msgId: string | undefined, time: number): number {
    const seq = this.lastSeq + 1;
    const encodedHeaders = Object.keys(headers).length > 0 ? JSON.stringify(headers) : null;
    this.statements.insert.run(seq, subject, Buffer.from(data.buffer, data.byteOffset, data.byteLength), encodedHeaders, time);
    if (msgId !== undefined) this.statements.insertMsgId.run(this.name, msgId, seq, time);
    this.lastSeq = seq;
    this.messages++;
    this.writer.beforeCommit(`seq:${this.name}`, () => this.statements.saveLastSeq.run(this.name, this.lastSeq));
    return seq;
  }

  /** Up to `limit` messages after `after`, among the committed ones, in order. */
  readAfter(after: number, limit: number): StoredMessage[] {
    return this.statements.readAfter.all(after, this.durableSeq, limit).map(toMessage);
  }

  read(seq: number): StoredMessage | undefined {
    const row = this.statements.readOne.get(seq);
    return row && toMessage(row);
  }

  /** Deletes a settled work-queue message (in the current transaction). */
  remove(seq: number): void {
    this.writer.writeUnawaited(() => {
      this.messages -= this.statements.remove.run(seq).changes;
    });
  }

  /**
   * Deletes one slice of the messages older than the max age (oldest first: sequence order is
   * time order). Returns whether a whole slice went, so that the caller goes on soon.
   */
  expireSlice(now: number): boolean {
    if (this.maxAgeMs === undefined) return false;
    const cutoff = now - this.maxAgeMs;
    const oldest = this.statements.oldest.all(SLICE_ROWS);
    let last: number | undefined;
    for (const row of oldest) {
      if (row.time > cutoff) break;
      last = row.seq;
    }
    if (last === undefined) return false;
    const upTo = last;
    this.writer.writeUnawaited(() => {
      this.messages -= this.statements.removeUpTo.run(upTo).changes;
    });
    return oldest.length === SLICE_ROWS && oldest[oldest.length - 1]?.seq === upTo;
  }
}

function toMessage(row: MessageRow): StoredMessage {
  return {
    seq: row.seq,
    subject: row.subject,
    data: ownBytes(row.data),
    headers: row.headers === null ? {} : (JSON.parse(row.headers) as Record<string, string>),
  };
}
