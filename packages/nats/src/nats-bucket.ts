import {
  assertKey,
  KindlingError,
  KvChangeQueue,
  messageOf,
  type KvBucket,
  type KvEntry,
  type KvWatch,
  type KvWatchOptions,
  type Logger,
} from '@kindling/core';
import type { KV } from 'nats';
import { isWrongLastSequence, unavailable } from './nats-errors.js';

/**
 * A key-value bucket on a JetStream KV bucket (history 1). Revisions are the bucket stream's
 * sequence numbers; compare-and-set is the server's "expected last subject sequence".
 */
export class NatsBucket implements KvBucket {
  private readonly watches = new Set<KvWatch>();

  constructor(
    readonly name: string,
    private readonly kv: KV,
    private readonly log: Logger,
  ) {}

  async get(key: string): Promise<KvEntry | null> {
    assertKey(key);
    const entry = await this.call(`get ${key}`, () => this.kv.get(key));
    return entry && entry.operation === 'PUT' ? { key, value: entry.value, revision: entry.revision } : null;
  }

  async put(key: string, value: Uint8Array, options: { previousRevision?: number } = {}): Promise<number> {
    assertKey(key);
    const previous = options.previousRevision;
    try {
      if (previous === undefined) return await this.kv.put(key, value);
      // create() also succeeds over a deleted key's tombstone, as "must not exist" means.
      if (previous === 0) return await this.kv.create(key, value);
      return await this.kv.update(key, value, previous);
    } catch (error) {
      if (isWrongLastSequence(error)) throw this.conflict(key, previous ?? 0);
      throw unavailable('KND_STORE_UNAVAILABLE', `put ${this.name}/${key}`, error);
    }
  }

  async delete(key: string, options: { previousRevision?: number } = {}): Promise<void> {
    assertKey(key);
    const previous = options.previousRevision;
    if (previous === 0) {
      // "Delete only if absent" has nothing to delete.
      if (await this.get(key)) throw this.conflict(key, 0);
      return;
    }
    try {
      await this.kv.delete(key, previous === undefined ? undefined : { previousSeq: previous });
    } catch (error) {
      if (isWrongLastSequence(error)) throw this.conflict(key, previous ?? 0);
      throw unavailable('KND_STORE_UNAVAILABLE', `delete ${this.name}/${key}`, error);
    }
  }

  async keys(prefix = ''): Promise<string[]> {
    const keys: string[] = [];
    const iterator = await this.call(`keys of ${this.name}`, () => this.kv.keys(serverFilter(prefix)));
    for await (const key of iterator) if (key.startsWith(prefix)) keys.push(key);
    return keys;
  }

  /**
   * The server sends the last entry of every key (deleted ones included, as tombstones), then
   * changes. The client tells when the first part is over through `initializedFn`: called in
   * stream order while the watch is iterated, or at once (before the iterator is returned) when
   * everything was already received, in which case the marker goes after those entries.
   */
  async watch(options: KvWatchOptions = {}): Promise<KvWatch> {
    const prefix = options.prefix ?? '';
    let stopIterator = () => {};
    const watch = new KvChangeQueue(() => {
      stopIterator();
      this.watches.delete(watch);
    });
    let returned = false;
    let initialized = false;
    let initializedBeforeReturn = false;
    const markInitialized = () => {
      initialized = true;
      watch.push('initialized');
    };
    const iterator = await this.call(`watch of ${this.name}`, () =>
      this.kv.watch({
        key: serverFilter(prefix),
        initializedFn: () => (returned ? markInitialized() : (initializedBeforeReturn = true)),
      }),
    );
    returned = true;
    stopIterator = () => iterator.stop();
    this.watches.add(watch);
    const initialCount = initializedBeforeReturn ? iterator.getReceived() : Infinity;
    if (initialCount === 0) markInitialized();
    void (async () => {
      let taken = 0;
      for await (const entry of iterator) {
        taken++;
        if (entry.key.startsWith(prefix)) {
          if (entry.operation === 'PUT') watch.push({ key: entry.key, value: entry.value, revision: entry.revision });
          else if (initialized) watch.push({ key: entry.key, value: null, revision: entry.revision });
        }
        if (!initialized && taken >= initialCount) markInitialized();
      }
    })()
      .catch((error) => this.log.warn({ bucket: this.name, err: messageOf(error) }, 'key-value watch ended'))
      .finally(() => watch.stop());
    return watch;
  }

  /** Ends the watches still open. */
  close(): void {
    for (const watch of this.watches) watch.stop();
  }

  private conflict(key: string, expected: number): KindlingError {
    return new KindlingError('KND_CONFLICT', `${this.name}/${key} is not at revision ${expected}.`, { detail: { bucket: this.name, key, expected } });
  }

  private async call<T>(doing: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw unavailable('KND_STORE_UNAVAILABLE', doing, error);
    }
  }
}

/** The server-side filter for a prefix: whole tokens only; the rest is filtered here. */
function serverFilter(prefix: string): string {
  const lastDot = prefix.lastIndexOf('.');
  return lastDot === -1 ? '>' : `${prefix.slice(0, lastDot + 1)}>`;
}
