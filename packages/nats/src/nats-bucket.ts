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
import { headers as natsHeaders, type KV } from 'nats';
import type { JetStreamPublisher } from './jet-stream-publisher.js';
import { isWrongLastSequence, unavailable } from './nats-errors.js';

const KV_OPERATION_HEADER = 'KV-Operation';
const EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER = 'Nats-Expected-Last-Subject-Sequence';
const EMPTY = new Uint8Array(0);

/**
 * A key-value bucket on a JetStream KV bucket (history 1). Revisions are the bucket stream's
 * sequence numbers; compare-and-set is the server's "expected last subject sequence". Reads and
 * watches go through nats.js's KV; writes are JetStream publishes through the connection's
 * `JetStreamPublisher`, with the headers nats.js's KV sets.
 */
export class NatsBucket implements KvBucket {
  private readonly watches = new Set<KvWatch>();

  /** Writes go to `$KV.<bucket>.<key>`, as JetStream KV lays a bucket out. */
  private readonly subjectPrefix: string;

  /** `streamBucket` is the bucket's name on the server (scoped); `name` the caller's. */
  constructor(
    readonly name: string,
    streamBucket: string,
    private readonly kv: KV,
    private readonly publisher: JetStreamPublisher,
    private readonly log: Logger,
  ) {
    this.subjectPrefix = `$KV.${streamBucket}.`;
  }

  async get(key: string): Promise<KvEntry | null> {
    assertKey(key);
    const entry = await this.call(`get ${key}`, () => this.kv.get(key));
    return entry && entry.operation === 'PUT' ? { key, value: entry.value, revision: entry.revision } : null;
  }

  async put(key: string, value: Uint8Array, options: { previousRevision?: number } = {}): Promise<number> {
    assertKey(key);
    const previous = options.previousRevision;
    try {
      if (previous === undefined) return (await this.publisher.publish(this.subjectPrefix + key, value)).seq;
      if (previous === 0) return await this.create(key, value);
      return await this.write(key, value, previous);
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
    // A delete is a tombstone: an empty message marked as such, as nats.js's kv.delete writes it.
    const headers = natsHeaders();
    headers.set(KV_OPERATION_HEADER, 'DEL');
    if (previous !== undefined) headers.set(EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER, String(previous));
    try {
      await this.publisher.publish(this.subjectPrefix + key, EMPTY, headers);
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

  /**
   * "Must not exist": the key's last sequence must be 0; over a deleted key's tombstone it is
   * the tombstone's, so on "wrong last sequence" a tombstone is overwritten at its revision
   * (what nats.js's kv.create does).
   */
  private async create(key: string, value: Uint8Array): Promise<number> {
    try {
      return await this.write(key, value, 0);
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
      const entry = await this.kv.get(key);
      if (entry && entry.operation !== 'PUT') return this.write(key, value, entry.revision);
      throw error;
    }
  }

  /** A put that the server refuses unless the key's last revision is `previous`. */
  private async write(key: string, value: Uint8Array, previous: number): Promise<number> {
    const headers = natsHeaders();
    headers.set(EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER, String(previous));
    return (await this.publisher.publish(this.subjectPrefix + key, value, headers)).seq;
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
