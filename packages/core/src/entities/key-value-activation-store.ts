import { activationTime } from '../ids.js';
import { JsonBucket } from '../json-bucket.js';
import type { ActivationRecord } from '../model/activation.js';
import { encodeToken } from '../names.js';
import type { KeyValueStore } from '../store.js';
import { Buckets, namespaceKeyPrefix } from '../subjects.js';
import { parseActivationQuery, parseActivationRetention } from './activation-query.js';
import type { ActivationQuery, ActivationRetention, ActivationStore, PruneStep } from './activation-store.js';

/** Kept by default: a day, and at most 10,000 records per namespace (the bound on every read). */
export const DEFAULT_KEY_VALUE_RETENTION = { maxAgeMs: 24 * 60 * 60_000, maxCountPerNamespace: 10_000 } as const;

/** Records read or deleted at once: enough to keep the round trips pipelined, few enough to stay small. */
const BATCH = 256;

/**
 * The bounded activation store of a NATS deployment without PostgreSQL: records in a key-value
 * bucket, keyed `<namespace>.<activation id>`. Ids begin with their time, so keys sort newest
 * first without an index, but there is no other index: a name or status filter, and a count
 * with one, read records one by one. What keeps that affordable is the bound: a namespace
 * keeps at most `maxCountPerNamespace` records (required here) for at most `maxAgeMs`, so no
 * query reads more than that many. Time bounds apply to the time in the activation id.
 */
export class KeyValueActivationStore implements ActivationStore {
  readonly retention: Required<ActivationRetention>;

  private constructor(
    private readonly bucket: JsonBucket<ActivationRecord>,
    retention: ActivationRetention,
  ) {
    const parsed = parseActivationRetention(retention);
    this.retention = { maxAgeMs: parsed.maxAgeMs, maxCountPerNamespace: parsed.maxCountPerNamespace ?? DEFAULT_KEY_VALUE_RETENTION.maxCountPerNamespace };
  }

  static async open(store: KeyValueStore, retention: ActivationRetention = DEFAULT_KEY_VALUE_RETENTION): Promise<KeyValueActivationStore> {
    return new KeyValueActivationStore(new JsonBucket(await store.bucket(Buckets.activations)), retention);
  }

  async put(record: ActivationRecord): Promise<void> {
    await this.bucket.put(keyOf(record.namespace, record.activationId), record);
  }

  async putMany(records: readonly ActivationRecord[]): Promise<void> {
    for (let at = 0; at < records.length; at += BATCH) {
      await Promise.all(records.slice(at, at + BATCH).map((record) => this.put(record)));
    }
  }

  async get(namespace: string, activationId: string): Promise<ActivationRecord | null> {
    return (await this.bucket.get(keyOf(namespace, activationId)))?.value ?? null;
  }

  async list(namespace: string, query: ActivationQuery = {}): Promise<ActivationRecord[]> {
    const parsed = parseActivationQuery(query);
    const ids = await this.newestIds(namespace, parsed);
    if (!filtersRecords(parsed)) return this.read(namespace, ids.slice(parsed.skip, parsed.skip + parsed.limit));
    const out: ActivationRecord[] = [];
    let matched = 0;
    for (let at = 0; at < ids.length && out.length < parsed.limit; at += BATCH) {
      for (const record of await this.read(namespace, ids.slice(at, at + BATCH))) {
        if (!matches(record, parsed) || matched++ < parsed.skip) continue;
        if (out.length < parsed.limit) out.push(record);
      }
    }
    return out;
  }

  async count(namespace: string, query: ActivationQuery = {}): Promise<number> {
    const parsed = parseActivationQuery(query);
    const ids = await this.newestIds(namespace, parsed);
    if (!filtersRecords(parsed)) return ids.length;
    let count = 0;
    for (let at = 0; at < ids.length; at += BATCH) {
      count += (await this.read(namespace, ids.slice(at, at + BATCH))).filter((record) => matches(record, parsed)).length;
    }
    return count;
  }

  /** Deletes up to one batch of records that are too old or past a namespace's count. */
  async prune(now: number): Promise<PruneStep> {
    const cutoff = now - this.retention.maxAgeMs;
    const byNamespace = new Map<string, string[]>();
    for (const key of await this.bucket.keys()) {
      const dot = key.lastIndexOf('.');
      const prefix = key.slice(0, dot);
      let keys = byNamespace.get(prefix);
      if (!keys) byNamespace.set(prefix, (keys = []));
      keys.push(key);
    }
    const doomed: string[] = [];
    for (const keys of byNamespace.values()) {
      keys.sort().reverse();
      keys.forEach((key, index) => {
        if (index >= this.retention.maxCountPerNamespace || activationTime(key.slice(key.lastIndexOf('.') + 1)) < cutoff) doomed.push(key);
      });
    }
    const batch = doomed.slice(0, BATCH);
    await Promise.all(batch.map((key) => this.bucket.delete(key)));
    return { removed: batch.length, done: doomed.length <= BATCH };
  }

  async close(): Promise<void> {
    // The bucket belongs to the backend's store, which its owner closes.
  }

  private async newestIds(namespace: string, query: ActivationQuery): Promise<string[]> {
    const prefix = namespaceKeyPrefix(namespace);
    return (await this.bucket.keys(prefix))
      .map((key) => key.slice(prefix.length))
      .filter((id) => (query.since === undefined || activationTime(id) >= query.since) && (query.upto === undefined || activationTime(id) <= query.upto))
      .sort()
      .reverse()
      .slice(0, this.retention.maxCountPerNamespace);
  }

  private async read(namespace: string, ids: readonly string[]): Promise<ActivationRecord[]> {
    const records = await Promise.all(ids.map((id) => this.get(namespace, id)));
    return records.filter((record): record is ActivationRecord => record !== null);
  }
}

function keyOf(namespace: string, activationId: string): string {
  return `${encodeToken(namespace)}.${activationId}`;
}

function filtersRecords(query: ActivationQuery): boolean {
  return query.name !== undefined || query.status !== undefined;
}

function matches(record: ActivationRecord, query: ActivationQuery): boolean {
  return (query.name === undefined || record.name === query.name) && (query.status === undefined || record.response.statusCode === query.status);
}
