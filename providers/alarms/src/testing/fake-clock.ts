import type { Clock, TimerHandle } from '@kindling/core';

interface FakeTimer {
  at: number;
  order: number;
  callback: () => void;
}

/** Lets queued promise callbacks and immediates run: enough for in-memory fires and cursors. */
export async function settle(turns = 8): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock the test moves by hand. `advanceTo` runs the timers due on the way in time order, at
 * their due time, and lets promises settle after each, as a real event loop would.
 */
export class FakeClock implements Clock {
  private time: number;
  private readonly timers = new Map<number, FakeTimer>();
  private nextId = 1;

  constructor(start: number | string) {
    this.time = typeof start === 'string' ? Date.parse(start) : start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, delayMs), order: id, callback });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id as number);
  }

  /** Timers set and not yet run or cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Due times of the pending timers. */
  pendingAt(): number[] {
    return [...this.timers.values()].map((t) => t.at).sort((a, b) => a - b);
  }

  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.time + ms);
  }

  async advanceTo(target: number | string): Promise<void> {
    const until = typeof target === 'string' ? Date.parse(target) : target;
    await settle();
    for (;;) {
      let next: [number, FakeTimer] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at > until) continue;
        if (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].order < next[1].order)) next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].callback();
      await settle();
    }
    this.time = Math.max(this.time, until);
    await settle();
  }
}
