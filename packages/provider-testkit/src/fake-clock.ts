import type { Clock, TimerHandle } from '@kindling/core';

/** A timer set on a `FakeClock` and not yet run or cleared. */
export interface PendingTimer {
  readonly id: number;
  /** When it is due, in the clock's epoch milliseconds. */
  readonly at: number;
  /** Where it was set: the stack of the `setTimeout` call (with `recordStacks`), for leak reports. */
  readonly createdAt: string;
  /** The owner the clock was told about when the timer was set (see `FakeClockOptions.ownerOf`). */
  readonly owner: unknown;
}

interface Timer extends PendingTimer {
  callback: () => void;
}

export interface FakeClockOptions {
  /**
   * Called when a timer is set: what to record as its owner (the conformance kit records which
   * feed's code set it). Default: nothing.
   */
  ownerOf?: () => unknown;
  /** Record where each timer was set (`PendingTimer.createdAt`), for leak reports. Default false: it costs a stack per timer. */
  recordStacks?: boolean;
  /** Told of each timer just before its callback runs. */
  onRun?: (timer: PendingTimer) => void;
}

/**
 * Lets queued promise callbacks and immediates run, as the event loop does between two timers:
 * enough for in-memory fires and cursor writes to complete.
 */
export async function settle(turns = 8): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A `Clock` moved by hand. `advance` and `advanceTo` run the timers that fall due on the way, in
 * due-time order (ties in the order they were set), each at its due time, and let promises settle
 * after each, so that a timer set by a callback runs in the same advance when it is due within it.
 */
export class FakeClock implements Clock {
  private time: number;
  private readonly timers = new Map<number, Timer>();
  private nextId = 1;
  private readonly ownerOf: () => unknown;
  private readonly recordStacks: boolean;
  private readonly onRun: (timer: PendingTimer) => void;

  constructor(start: number | string | Date = Date.now(), options: FakeClockOptions = {}) {
    this.time = typeof start === 'string' ? Date.parse(start) : typeof start === 'number' ? start : start.getTime();
    if (!Number.isFinite(this.time)) throw new TypeError(`FakeClock: start must be a time, got '${String(start)}'`);
    this.ownerOf = options.ownerOf ?? (() => undefined);
    this.recordStacks = options.recordStacks ?? false;
    this.onRun = options.onRun ?? (() => undefined);
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    const createdAt = this.recordStacks ? stackHere() : '';
    this.timers.set(id, { id, at: this.time + Math.max(0, delayMs || 0), callback, createdAt, owner: this.ownerOf() });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle?.id as number);
  }

  /** How many timers are set and not yet run or cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Due times of the pending timers, earliest first. */
  pendingAt(): number[] {
    return [...this.timers.values()].map((timer) => timer.at).sort((a, b) => a - b);
  }

  /** The pending timers, earliest first, with where each was set. */
  pending(): PendingTimer[] {
    return [...this.timers.values()]
      .sort((a, b) => a.at - b.at || a.id - b.id)
      .map(({ id, at, createdAt, owner }) => ({ id, at, createdAt, owner }));
  }

  /** When the earliest pending timer is due; undefined when none is pending. */
  nextDueAt(): number | undefined {
    return this.pendingAt()[0];
  }

  /** Moves time forward by `ms`, running every timer that falls due. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.time + ms);
  }

  /** Moves time forward to `target` (never back), running every timer that falls due. */
  async advanceTo(target: number | string | Date): Promise<void> {
    const until = typeof target === 'string' ? Date.parse(target) : typeof target === 'number' ? target : target.getTime();
    await settle();
    for (;;) {
      const next = this.earliestDue(until);
      if (!next) break;
      this.timers.delete(next.id);
      this.time = Math.max(this.time, next.at);
      this.onRun(next);
      next.callback();
      await settle();
    }
    this.time = Math.max(this.time, until);
    await settle();
  }

  /** Runs the earliest pending timer (moving time to it); false when none is pending. */
  async runNext(): Promise<boolean> {
    const at = this.nextDueAt();
    if (at === undefined) return false;
    await this.advanceTo(at);
    return true;
  }

  private earliestDue(until: number): Timer | undefined {
    let next: Timer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.at > until) continue;
      if (!next || timer.at < next.at || (timer.at === next.at && timer.id < next.id)) next = timer;
    }
    return next;
  }
}

function stackHere(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  try {
    return new Error('timer set here').stack?.split('\n').slice(2).join('\n') ?? '';
  } finally {
    Error.stackTraceLimit = limit;
  }
}
