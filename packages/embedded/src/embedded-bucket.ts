import { join } from 'node:path';
import { assertKey, KindlingError, KvChangeQueue, type KvBucket, type KvEntry, type KvWatch, type KvWatchOptions, type Logger } from '@kindling/core';
import { assertPayloadSize } from './payload-size.js';
import { FileRecordLog, memoryRecordLog, readRecords, type RecordLog } from './record-log.js';

/**
 * A line of a bucket's log: key `k` set to `v` (base64; null when deleted) at revision `r`.
 * A line without `k` only carries the bucket's last revision, so that revisions never go back.
 */
interface BucketRecord {
  r: number;
  k?: string;
  v?: string | null;
}

interface Watcher {
  prefix: string;
  queue: KvChangeQueue;
}

/** A key-value bucket of the embedded store: entries in memory, every change in its own log. */
export class EmbeddedBucket implements KvBucket {
  private readonly entries = new Map<string, { value: Uint8Array; revision: number }>();
  private readonly watchers = new Set<Watcher>();
  private lastRevision = 0;
  private records: RecordLog = memoryRecordLog;

  private constructor(readonly name: string) {}

  static async open(name: string, options: { dir?: string; fsync: boolean; log: Logger }): Promise<EmbeddedBucket> {
    const bucket = new EmbeddedBucket(name);
    if (options.dir !== undefined) {
      const path = join(options.dir, 'kv', `${name}.log`);
      for (const record of await readRecords(path, options.log)) bucket.apply(record as BucketRecord);
      bucket.records = await FileRecordLog.open(path, { fsync: options.fsync, log: options.log, snapshot: () => bucket.snapshot() });
    }
    return bucket;
  }

  get(key: string): Promise<KvEntry | null> {
    assertKey(key);
    const entry = this.entries.get(key);
    return Promise.resolve(entry ? { key, value: entry.value, revision: entry.revision } : null);
  }

  async put(key: string, value: Uint8Array, options: { previousRevision?: number } = {}): Promise<number> {
    assertKey(key);
    assertPayloadSize(value);
    this.checkRevision(key, options.previousRevision);
    return this.write(key, new Uint8Array(value));
  }

  async delete(key: string, options: { previousRevision?: number } = {}): Promise<void> {
    assertKey(key);
    this.checkRevision(key, options.previousRevision);
    // "Delete only if absent" has nothing to delete.
    if (options.previousRevision === 0) return;
    await this.write(key, null);
  }

  keys(prefix = ''): Promise<string[]> {
    return Promise.resolve([...this.entries.keys()].filter((key) => key.startsWith(prefix)));
  }

  watch(options: KvWatchOptions = {}): Promise<KvWatch> {
    const watcher: Watcher = { prefix: options.prefix ?? '', queue: new KvChangeQueue(() => this.watchers.delete(watcher)) };
    const current = [...this.entries].filter(([key]) => key.startsWith(watcher.prefix)).sort(([, a], [, b]) => a.revision - b.revision);
    for (const [key, entry] of current) watcher.queue.push({ key, value: entry.value, revision: entry.revision });
    watcher.queue.push('initialized');
    this.watchers.add(watcher);
    return Promise.resolve(watcher.queue);
  }

  async close(): Promise<void> {
    for (const watcher of this.watchers) watcher.queue.stop();
    await this.records.close();
  }

  private checkRevision(key: string, previousRevision: number | undefined): void {
    if (previousRevision === undefined) return;
    const actual = this.entries.get(key)?.revision ?? 0;
    if (actual !== previousRevision) {
      throw new KindlingError('KND_CONFLICT', `${this.name}/${key} is at revision ${actual}, not ${previousRevision}.`, { detail: { bucket: this.name, key, revision: actual, expected: previousRevision } });
    }
  }

  /** Applies a change in memory at once (so the next compare-and-set sees it), then makes it durable. */
  private async write(key: string, value: Uint8Array | null): Promise<number> {
    const revision = ++this.lastRevision;
    this.set(key, value, revision);
    for (const watcher of this.watchers) {
      if (key.startsWith(watcher.prefix)) watcher.queue.push({ key, value, revision });
    }
    await this.records.append({ r: revision, k: key, v: value === null ? null : Buffer.from(value).toString('base64') });
    return revision;
  }

  private set(key: string, value: Uint8Array | null, revision: number): void {
    if (value === null) this.entries.delete(key);
    else this.entries.set(key, { value, revision });
  }

  private apply(record: BucketRecord): void {
    this.lastRevision = Math.max(this.lastRevision, record.r);
    if (record.k === undefined) return;
    const current = this.entries.get(record.k);
    // Replaying an older line over a newer snapshot must not undo it.
    if (current && current.revision > record.r) return;
    this.set(record.k, record.v == null ? null : new Uint8Array(Buffer.from(record.v, 'base64')), record.r);
  }

  private snapshot(): BucketRecord[] {
    const records: BucketRecord[] = [{ r: this.lastRevision }];
    for (const [key, entry] of this.entries) records.push({ r: entry.revision, k: key, v: Buffer.from(entry.value).toString('base64') });
    return records;
  }
}
