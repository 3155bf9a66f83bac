import { type JsonBucket, KindlingError } from '@kindling/core';
import { type CursorStore, FeedStoppedError } from '@kindling/sdk';

/** How a cursor is stored: the provider's value and the fence of the partition lease it was written under. */
export interface StoredCursor {
  fence: number;
  cursor: unknown;
}

function isStoredCursor(value: unknown): value is StoredCursor {
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  return keys.length === 2 && typeof (value as StoredCursor).fence === 'number' && keys.includes('cursor');
}

/** The provider's cursor in a stored one (a cursor written before fencing is the value itself). */
export function cursorValue(stored: unknown): unknown {
  return isStoredCursor(stored) ? stored.cursor : stored;
}

function fenceOf(stored: unknown): number {
  return isStoredCursor(stored) ? stored.fence : 0;
}

/**
 * A running feed's cursor, fenced: every write is a compare-and-set on the cursor's revision and
 * carries the fence of the partition lease held when the feed started. A write that meets a
 * cursor written under a newer fence is refused: the partition has a new owner, so this host
 * stops the feed instead of overwriting a position the other host has moved on from.
 */
export class FencedCursor implements CursorStore {
  private revision: number | undefined;
  /** Writes one at a time, in call order: a retried compare-and-set must not land after a later write. */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly bucket: JsonBucket<unknown>,
    private readonly feedId: string,
    /** The fence of the partition while this host holds it; undefined once it does not. */
    private readonly currentFence: () => number | undefined,
    /** Called when a newer owner's write is found: the host gives the partition up. */
    private readonly onFenced: () => void,
  ) {}

  async get<T>(): Promise<T | undefined> {
    const entry = await this.bucket.get(this.feedId);
    this.revision = entry?.revision ?? 0;
    return cursorValue(entry?.value) as T | undefined;
  }

  set<T>(value: T): Promise<void> {
    const write = this.writes.then(() => this.write(value));
    this.writes = write.catch(() => undefined);
    return write;
  }

  private async write(value: unknown): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const fence = this.currentFence();
      if (fence === undefined) throw new FeedStoppedError(this.feedId);
      if (this.revision === undefined) await this.get();
      try {
        this.revision = await this.bucket.put(this.feedId, { fence, cursor: value } satisfies StoredCursor, { previousRevision: this.revision });
        return;
      } catch (error) {
        if (!(error instanceof KindlingError && error.code === 'KND_CONFLICT') || attempt >= 5) throw error;
      }
      const entry = await this.bucket.get(this.feedId);
      if (entry && fenceOf(entry.value) > fence) {
        this.onFenced();
        throw new FeedStoppedError(this.feedId);
      }
      this.revision = entry?.revision ?? 0;
    }
  }
}
