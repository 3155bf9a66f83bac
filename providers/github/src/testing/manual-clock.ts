import type { Clock, TimerHandle } from '@kindling/core';

/** Real time for `now`, but timers run only when a test says so: how a test skips the wait for a periodic check. */
export class ManualClock implements Clock {
  private readonly timers = new Map<number, () => void>();
  private nextId = 1;

  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, _delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, callback);
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Runs every timer set so far (not those they set in turn). */
  runPending(): void {
    const due = [...this.timers.entries()];
    this.timers.clear();
    for (const [, callback] of due) callback();
  }
}
