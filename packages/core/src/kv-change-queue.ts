import type { KvChange, KvWatch } from './store.js';

type Item = KvChange | 'initialized';

/**
 * The async iterable behind a `KvWatch`, for backends to build theirs on: changes are pushed
 * in, the watcher pulls them out; `stop()` (or leaving a for-await loop) ends the iteration.
 */
export class KvChangeQueue implements KvWatch {
  private readonly items: Item[] = [];
  private waiting: ((result: IteratorResult<Item>) => void) | undefined;
  private stopped = false;

  constructor(private readonly onStop: () => void) {}

  push(item: Item): void {
    if (this.stopped) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.items.length = 0;
    this.onStop();
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<Item> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.stopped) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.stop();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
