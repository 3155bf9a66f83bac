import { EventEmitter } from 'node:events';
import type { ConformanceSource } from '../conformance-options.js';

export interface MemoryItem {
  /** Position in the source: what a cursor remembers. */
  seq: number;
  /** The item's identity: the same event delivered again has the same key. */
  key: string;
}

/**
 * A source in memory, for the kit's own tests: a list that grows (for polling providers) and
 * announces each item (for connection providers). Found by name, as a real source by URL.
 */
export class MemorySource extends EventEmitter {
  private static readonly byName = new Map<string, MemorySource>();
  readonly items: MemoryItem[] = [];

  static create(name: string): MemorySource {
    const source = new MemorySource();
    MemorySource.byName.set(name, source);
    return source;
  }

  static named(name: string): MemorySource {
    const source = MemorySource.byName.get(name);
    if (!source) throw new Error(`no memory source '${name}'`);
    return source;
  }

  push(key: string): MemoryItem {
    const item = { seq: this.items.length + 1, key };
    this.items.push(item);
    this.emit('item', item);
    return item;
  }

  after(seq: number): MemoryItem[] {
    return this.items.filter((item) => item.seq > seq);
  }

  /** The adapter the kit drives it with: an event is a new item whose key is the token. */
  adapter(overrides: Partial<ConformanceSource> = {}): ConformanceSource {
    return {
      emit: async ({ token }) => void this.push(token),
      redeliver: async (token) => void this.push(token),
      ...overrides,
    };
  }
}
