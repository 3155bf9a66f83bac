import { assertBucketName, type KeyValueStore, type KvBucket, type Logger } from '@kindling/core';
import { StorageType, type JetStreamClient } from 'nats';
import { unavailable } from './nats-errors.js';
import { NatsBucket } from './nats-bucket.js';
import type { JetStreamPublisher } from './jet-stream-publisher.js';
import type { NatsScope } from './nats-scope.js';

/** The key-value store on JetStream KV: one KV bucket (file storage, history 1) per bucket. */
export class NatsStore implements KeyValueStore {
  private readonly buckets = new Map<string, Promise<NatsBucket>>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly publisher: JetStreamPublisher,
    private readonly scope: NatsScope,
    private readonly log: Logger,
  ) {}

  bucket(name: string): Promise<KvBucket> {
    assertBucketName(name);
    let bucket = this.buckets.get(name);
    if (!bucket) {
      bucket = this.js.views
        .kv(this.scope.name(name), { history: 1, storage: StorageType.File })
        .then((kv) => new NatsBucket(name, this.scope.name(name), kv, this.publisher, this.log))
        .catch((error) => {
          this.buckets.delete(name);
          throw unavailable('KND_STORE_UNAVAILABLE', `opening bucket ${name}`, error);
        });
      this.buckets.set(name, bucket);
    }
    return bucket;
  }

  async close(): Promise<void> {
    const buckets = await Promise.allSettled(this.buckets.values());
    this.buckets.clear();
    for (const bucket of buckets) if (bucket.status === 'fulfilled') bucket.value.close();
  }
}
