import { Buckets, type FeedRecord, type FeedStatusRecord, JsonBucket, type KeyValueStore } from '@kindling/core';

export interface Lease {
  host: string;
  expiresAt: number;
}

/** Typed access to the buckets of the feed lifecycle, shared by the API and provider hosts. */
export class FeedRepository {
  private constructor(
    readonly feeds: JsonBucket<FeedRecord>,
    readonly statuses: JsonBucket<FeedStatusRecord>,
    readonly cursors: JsonBucket<unknown>,
    readonly leases: JsonBucket<Lease>,
  ) {}

  static async open(store: KeyValueStore): Promise<FeedRepository> {
    const [feeds, statuses, cursors, leases] = await Promise.all([
      store.bucket(Buckets.feeds),
      store.bucket(Buckets.feedStatus),
      store.bucket(Buckets.cursors),
      store.bucket(Buckets.leases),
    ]);
    return new FeedRepository(new JsonBucket(feeds), new JsonBucket(statuses), new JsonBucket(cursors), new JsonBucket(leases));
  }
}
