import { Buckets, KindlingError, type KeyValueStore, type KvBucket, type KvWatch, type KvWatchOptions } from '@kindling/core';

/**
 * A `KeyValueStore` over a real one whose cursor bucket fails a write on demand: the fault a
 * provider meets when it stores its position after firing. Other buckets pass through.
 */
export class FaultyStore implements KeyValueStore {
  private armed: (() => boolean) | undefined;
  private writesInFlight = 0;
  /** Cursor writes made (failed ones included). */
  cursorWrites = 0;
  /** Cursor writes the store refused. */
  failedCursorWrites = 0;
  /** The number of the last refused write among all cursor writes (`cursorWrites` then). */
  lastFailedWrite = 0;

  constructor(private readonly inner: KeyValueStore) {}

  /**
   * The first cursor write made while `when()` holds fails with `KND_STORE_UNAVAILABLE`; later
   * ones succeed. Without `when`, the next cursor write fails.
   */
  failNextCursorWrite(when: () => boolean = () => true): void {
    this.armed = when;
  }

  /** Cursor writes not settled yet. */
  get pendingWrites(): number {
    return this.writesInFlight;
  }

  async bucket(name: string): Promise<KvBucket> {
    const bucket = await this.inner.bucket(name);
    return name === Buckets.cursors ? this.cursorBucket(bucket) : bucket;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private cursorBucket(inner: KvBucket): KvBucket {
    return {
      name: inner.name,
      get: (key) => inner.get(key),
      put: async (key, value, options) => {
        this.cursorWrites++;
        this.writesInFlight++;
        try {
          if (this.armed?.()) {
            this.armed = undefined;
            this.failedCursorWrites++;
            this.lastFailedWrite = this.cursorWrites;
            throw new KindlingError('KND_STORE_UNAVAILABLE', 'storing the cursor failed: the store is unavailable (a fault injected by the conformance kit)');
          }
          return await inner.put(key, value, options);
        } finally {
          this.writesInFlight--;
        }
      },
      delete: (key, options) => inner.delete(key, options),
      keys: (prefix) => inner.keys(prefix),
      watch: (options?: KvWatchOptions): Promise<KvWatch> => inner.watch(options),
    };
  }
}
