import { assertBucketName, type KeyValueStore, type KvBucket, type Logger } from '@kindling/core';
import { EmbeddedBucket } from './embedded-bucket.js';

/** The embedded key-value store: buckets opened on first use, each with its own log file. */
export class EmbeddedStore implements KeyValueStore {
  private readonly buckets = new Map<string, Promise<EmbeddedBucket>>();

  constructor(private readonly options: { dir?: string; fsync: boolean; log: Logger }) {}

  bucket(name: string): Promise<KvBucket> {
    assertBucketName(name);
    let bucket = this.buckets.get(name);
    if (!bucket) {
      bucket = EmbeddedBucket.open(name, this.options);
      this.buckets.set(name, bucket);
      bucket.catch(() => this.buckets.delete(name));
    }
    return bucket;
  }

  async close(): Promise<void> {
    const buckets = await Promise.allSettled(this.buckets.values());
    this.buckets.clear();
    await Promise.all(buckets.map((b) => (b.status === 'fulfilled' ? b.value.close() : undefined)));
  }
}
