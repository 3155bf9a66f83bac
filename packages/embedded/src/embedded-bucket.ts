import type { Database, Statement } from 'better-sqlite3';
import { assertKey, assertPayloadSize, KindlingError, KvChangeQueue, type KvBucket, type KvChange, type KvEntry, type KvWatch, type KvWatchOptions } from '@kindling/core';
import type { GroupedWriter } from './grouped-writer.js';
import { ownBytes } from './own-bytes.js';

interface Watcher {
  prefix: string;
  /** Changes up to this revision were in the watch's initial values. */
  seenUpTo: number;
  queue: KvChangeQueue;
}

interface EntryRow {
  key: string;
  value: Buffer;
  revision: number;
}

/** Keys are `[-_=A-Za-z0-9.]`: every key with a prefix sorts below the prefix followed by this. */
const AFTER_EVERY_KEY_CHARACTER = '\u007f';

/**
 * A key-value bucket of the embedded store: rows of `kv_entries`, its last revision in
 * `kv_buckets`. A write runs at once in the turn's transaction (so the next compare-and-set sees
 * it) and resolves, and reaches watchers, once committed.
 */
export class EmbeddedBucket implements KvBucket {
  private readonly watchers = new Set<Watcher>();
  private lastRevision: number;
  private readonly statements: {
    get: Statement<[string, string], EntryRow>;
    revision: Statement<[string, string], { revision: number }>;
    put: Statement<[string, string, number, Buffer]>;
    delete: Statement<[string, string]>;
    keys: Statement<[string], { key: string }>;
    keysFrom: Statement<[string, string, string], { key: string }>;
    entries: Statement<[string], EntryRow>;
    entriesFrom: Statement<[string, string, string], EntryRow>;
    saveRevision: Statement<[string, number]>;
  };

  constructor(
    readonly name: string,
    db: Database,
    private readonly writer: GroupedWriter,
  ) {
    const range = 'bucket = ? AND key >= ? AND key < ?';
    this.statements = {
      get: db.prepare('SELECT key, value, revision FROM kv_entries WHERE bucket = ? AND key = ?'),
      revision: db.prepare('SELECT revision FROM kv_entries WHERE bucket = ? AND key = ?'),
      put: db.prepare('INSERT INTO kv_entries (bucket, key, revision, value) VALUES (?, ?, ?, ?) ON CONFLICT (bucket, key) DO UPDATE SET revision = excluded.revision, value = excluded.value'),
      delete: db.prepare('DELETE FROM kv_entries WHERE bucket = ? AND key = ?'),
      keys: db.prepare('SELECT key FROM kv_entries WHERE bucket = ?'),
      keysFrom: db.prepare(`SELECT key FROM kv_entries WHERE ${range}`),
      entries: db.prepare('SELECT key, value, revision FROM kv_entries WHERE bucket = ? ORDER BY revision'),
      entriesFrom: db.prepare(`SELECT key, value, revision FROM kv_entries WHERE ${range} ORDER BY revision`),
      saveRevision: db.prepare('INSERT INTO kv_buckets (name, last_revision) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_revision = excluded.last_revision'),
    };
    const saved = db.prepare<[string], { last_revision: number }>('SELECT last_revision FROM kv_buckets WHERE name = ?').get(name)?.last_revision ?? 0;
    const stored = db.prepare<[string], { last: number | null }>('SELECT max(revision) AS last FROM kv_entries WHERE bucket = ?').get(name)?.last ?? 0;
    this.lastRevision = Math.max(saved, stored);
  }

  get(key: string): Promise<KvEntry | null> {
    assertKey(key);
    const row = this.statements.get.get(this.name, key);
    return Promise.resolve(row ? { key, value: ownBytes(row.value), revision: row.revision } : null);
  }

  async put(key: string, value: Uint8Array, options: { previousRevision?: number } = {}): Promise<number> {
    assertKey(key);
    assertPayloadSize(value);
    this.checkRevision(key, options.previousRevision);
    const copy = new Uint8Array(value);
    return this.write(key, copy, (revision) => this.statements.put.run(this.name, key, revision, Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength)));
  }

  async delete(key: string, options: { previousRevision?: number } = {}): Promise<void> {
    assertKey(key);
    this.checkRevision(key, options.previousRevision);
    // "Delete only if absent" has nothing to delete.
    if (options.previousRevision === 0) return;
    await this.write(key, null, () => this.statements.delete.run(this.name, key));
  }

  keys(prefix = ''): Promise<string[]> {
    const rows = prefix === '' ? this.statements.keys.all(this.name) : this.statements.keysFrom.all(this.name, prefix, prefix + AFTER_EVERY_KEY_CHARACTER);
    return Promise.resolve(rows.map((row) => row.key));
  }

  watch(options: KvWatchOptions = {}): Promise<KvWatch> {
    const prefix = options.prefix ?? '';
    const watcher: Watcher = { prefix, seenUpTo: this.lastRevision, queue: new KvChangeQueue(() => this.watchers.delete(watcher)) };
    const rows = prefix === '' ? this.statements.entries.iterate(this.name) : this.statements.entriesFrom.iterate(this.name, prefix, prefix + AFTER_EVERY_KEY_CHARACTER);
    for (const row of rows) watcher.queue.push({ key: row.key, value: ownBytes(row.value), revision: row.revision });
    watcher.queue.push('initialized');
    this.watchers.add(watcher);
    return Promise.resolve(watcher.queue);
  }

  close(): void {
    for (const watcher of this.watchers) watcher.queue.stop();
  }

  private checkRevision(key: string, previousRevision: number | undefined): void {
    if (previousRevision === undefined) return;
    const actual = this.statements.revision.get(this.name, key)?.revision ?? 0;
    if (actual !== previousRevision) {
      throw new KindlingError('KND_CONFLICT', `${this.name}/${key} is at revision ${actual}, not ${previousRevision}.`, { detail: { bucket: this.name, key, revision: actual, expected: previousRevision } });
    }
  }

  private async write(key: string, value: Uint8Array | null, change: (revision: number) => void): Promise<number> {
    const revision = await this.writer.write(() => {
      const next = this.lastRevision + 1;
      change(next);
      this.lastRevision = next;
      this.writer.beforeCommit(`revision:${this.name}`, () => this.statements.saveRevision.run(this.name, this.lastRevision));
      return next;
    });
    this.tell({ key, value, revision });
    return revision;
  }

  private tell(change: KvChange): void {
    for (const watcher of this.watchers) {
      if (change.revision > watcher.seenUpTo && change.key.startsWith(watcher.prefix)) watcher.queue.push(change);
    }
  }
}
