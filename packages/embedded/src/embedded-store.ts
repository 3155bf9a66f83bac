import type { Database } from 'better-sqlite3';
import { assertBucketName, type KeyValueStore, type KvBucket } from '@kindling/core';
import { EmbeddedBucket } from './embedded-bucket.js';
import type { GroupedWriter } from './grouped-writer.js';

/** The embedded key-value store: buckets are rows of one table, opened on first use. */
export class EmbeddedStore implements KeyValueStore {
  private readonly buckets = new Map<string, EmbeddedBucket>();

  constructor(
    private readonly db: Database,
    private readonly writer: GroupedWriter,
  ) {}

  bucket(name: string): Promise<KvBucket> {
    assertBucketName(name);
    let bucket = this.buckets.get(name);
    if (!bucket) {
      bucket = new EmbeddedBucket(name, this.db, this.writer);
      this.buckets.set(name, bucket);
    }
    return Promise.resolve(bucket);
  }

  /** Ends the watches; the writer and database are the backend's to close. */
  close(): Promise<void> {
    for (const bucket of this.buckets.values()) bucket.close();
    this.buckets.clear();
    return Promise.resolve();
  }
}
