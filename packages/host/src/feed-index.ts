import type { FeedRecord } from '@kindling/core';
import { partitionOf } from './feed-partitions.js';

/** The stored feed records as a host sees them, by id and by partition. */
export class FeedIndex {
  private readonly records = new Map<string, FeedRecord>();
  private readonly byPartition: Array<Set<string>>;

  constructor(private readonly partitions: number) {
    this.byPartition = Array.from({ length: partitions }, () => new Set<string>());
  }

  get size(): number {
    return this.records.size;
  }

  get(feedId: string): FeedRecord | undefined {
    return this.records.get(feedId);
  }

  partitionOf(feedId: string): number {
    return partitionOf(feedId, this.partitions);
  }

  inPartition(partition: number): string[] {
    return [...(this.byPartition[partition] ?? [])];
  }

  /** Sets or (with null) removes a record; returns whether anything changed. */
  change(feedId: string, record: FeedRecord | null): boolean {
    const previous = this.records.get(feedId);
    if (record === null) {
      if (!previous) return false;
      this.records.delete(feedId);
      this.byPartition[this.partitionOf(feedId)]?.delete(feedId);
      return true;
    }
    this.records.set(feedId, record);
    this.byPartition[this.partitionOf(feedId)]?.add(feedId);
    return previous?.generation !== record.generation || previous.desired !== record.desired;
  }

  /** Replaces every record (a watch's replay); returns the ids whose record changed or went away. */
  replace(entries: ReadonlyMap<string, FeedRecord>): string[] {
    const changed: string[] = [];
    for (const feedId of [...this.records.keys()]) if (!entries.has(feedId) && this.change(feedId, null)) changed.push(feedId);
    for (const [feedId, record] of entries) if (this.change(feedId, record)) changed.push(feedId);
    return changed;
  }
}
