import { activationTime } from '../ids.js';
import { JsonBucket } from '../json-bucket.js';
import type { ActivationRecord } from '../model/activation.js';
import type { KeyValueStore } from '../store.js';
import { Buckets, namespaceKeyPrefix } from '../subjects.js';
import { encodeToken } from '../names.js';

export interface ActivationQuery {
  /** Only activations of this action or trigger name. */
  name?: string;
  skip?: number;
  limit?: number;
  /** Epoch ms bounds on the start time. */
  since?: number;
  upto?: number;
}

/**
 * Activation records, keyed `<namespace>.<activation id>`. Ids begin with their start time, so
 * listing newest first needs no index: the keys sort by time.
 */
export class ActivationStore {
  private constructor(readonly bucket: JsonBucket<ActivationRecord>) {}

  static async open(store: KeyValueStore): Promise<ActivationStore> {
    return new ActivationStore(new JsonBucket(await store.bucket(Buckets.activations)));
  }

  private key(namespace: string, activationId: string): string {
    return `${encodeToken(namespace)}.${activationId}`;
  }

  async put(record: ActivationRecord): Promise<void> {
    await this.bucket.put(this.key(record.namespace, record.activationId), record);
  }

  async get(namespace: string, activationId: string): Promise<ActivationRecord | null> {
    return (await this.bucket.get(this.key(namespace, activationId)))?.value ?? null;
  }

  async list(namespace: string, query: ActivationQuery = {}): Promise<ActivationRecord[]> {
    const prefix = namespaceKeyPrefix(namespace);
    const ids = (await this.bucket.keys(prefix))
      .map((key) => key.slice(prefix.length))
      .filter((id) => (query.since === undefined || activationTime(id) >= query.since) && (query.upto === undefined || activationTime(id) <= query.upto))
      .sort()
      .reverse();
    const skip = query.skip ?? 0;
    const limit = query.limit ?? 30;
    const out: ActivationRecord[] = [];
    let matched = 0;
    for (const id of ids) {
      if (out.length >= limit) break;
      // Without a name filter the skipped records need not be read at all.
      if (query.name === undefined && matched++ < skip) continue;
      const record = await this.get(namespace, id);
      if (!record) continue;
      if (query.name !== undefined && (record.name !== query.name || matched++ < skip)) continue;
      out.push(record);
    }
    return out;
  }
}
