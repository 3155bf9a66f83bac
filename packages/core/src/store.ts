/**
 * The key-value store behind entities, feed records, statuses, cursors and leases. Backends:
 * NATS JetStream key-value buckets and the embedded file-backed store. Both honour one
 * contract, checked by the contract suite in `test/contract`:
 *
 * - every write returns a revision that grows within a bucket;
 * - a write with `previousRevision` succeeds only if the key is still at that revision
 *   (0 means "must not exist"), else it throws a `KND_CONFLICT` KindlingError;
 * - `watch` first yields the current value of every matching key, then an `initialized` marker, then
 *   every change, including deletes.
 *
 * Keys are `[-_=A-Za-z0-9]` tokens separated by dots; use `encodeToken` for names.
 */
export interface KeyValueStore {
  bucket(name: string): Promise<KvBucket>;
  close(): Promise<void>;
}

export interface KvEntry {
  key: string;
  value: Uint8Array;
  revision: number;
}

export interface KvChange {
  key: string;
  /** `null` when the key was deleted. */
  value: Uint8Array | null;
  revision: number;
}

export interface KvWatchOptions {
  /** Only keys that start with this prefix (a whole token prefix such as `guest.`). */
  prefix?: string;
}

export interface KvWatch extends AsyncIterable<KvChange | 'initialized'> {
  stop(): void;
}

export interface KvBucket {
  readonly name: string;
  get(key: string): Promise<KvEntry | null>;
  /** Writes `value`; with `previousRevision`, only if the key is at that revision (0: absent). */
  put(key: string, value: Uint8Array, options?: { previousRevision?: number }): Promise<number>;
  /** Deletes the key; with `previousRevision`, only if the key is at that revision. */
  delete(key: string, options?: { previousRevision?: number }): Promise<void>;
  /** Keys that start with `prefix`, in no particular order. */
  keys(prefix?: string): Promise<string[]>;
  watch(options?: KvWatchOptions): Promise<KvWatch>;
}
