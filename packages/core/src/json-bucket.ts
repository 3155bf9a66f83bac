import { decodeJson, encodeJson } from './bus.js';
import type { KvBucket, KvWatchOptions } from './store.js';

export interface Versioned<T> {
  value: T;
  revision: number;
}

/** A typed JSON view of a key-value bucket. */
export class JsonBucket<T> {
  constructor(readonly raw: KvBucket) {}

  async get(key: string): Promise<Versioned<T> | null> {
    const entry = await this.raw.get(key);
    return entry ? { value: decodeJson<T>(entry.value), revision: entry.revision } : null;
  }

  put(key: string, value: T, options?: { previousRevision?: number }): Promise<number> {
    return this.raw.put(key, encodeJson(value), options);
  }

  delete(key: string, options?: { previousRevision?: number }): Promise<void> {
    return this.raw.delete(key, options);
  }

  keys(prefix?: string): Promise<string[]> {
    return this.raw.keys(prefix);
  }

  async list(prefix?: string): Promise<Array<Versioned<T> & { key: string }>> {
    const keys = await this.raw.keys(prefix);
    const entries = await Promise.all(keys.map(async (key) => ({ key, entry: await this.get(key) })));
    return entries.flatMap(({ key, entry }) => (entry ? [{ key, ...entry }] : []));
  }

  /**
   * Read-modify-write with optimistic concurrency: `update` gets the current value (or null)
   * and returns the new one; retried when another writer got there first.
   */
  async update(key: string, update: (current: T | null) => T, attempts = 10): Promise<{ value: T; revision: number }> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(key);
      const next = update(current?.value ?? null);
      try {
        const revision = await this.put(key, next, { previousRevision: current?.revision ?? 0 });
        return { value: next, revision };
      } catch (error) {
        if (attempt >= attempts || (error as { code?: string }).code !== 'KND_CONFLICT') throw error;
      }
    }
  }

  async *watch(options?: KvWatchOptions): AsyncGenerator<{ key: string; value: T | null; revision: number } | 'initialized'> {
    const watch = await this.raw.watch(options);
    try {
      for await (const change of watch) {
        if (change === 'initialized') yield change;
        else yield { key: change.key, value: change.value ? decodeJson<T>(change.value) : null, revision: change.revision };
      }
    } finally {
      watch.stop();
    }
  }
}
