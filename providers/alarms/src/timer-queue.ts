import type { Clock, TimerHandle } from '@kindling/sdk';

export interface TimerQueueOptions {
  /** Runs in flight at once; the rest wait their turn, oldest due first. */
  maxInFlight?: number;
  /**
   * Longest single clock timer. Node's setTimeout fires at once for delays past 2^31-1 ms
   * (~24.8 days); a once-alarm months ahead is reached by re-arming.
   */
  maxTimerDelayMs?: number;
  /** Told about a run that threw or rejected (runs should handle their own errors). */
  onRunError?: (error: unknown) => void;
}

type TimerState = 'idle' | 'waiting' | 'ready' | 'running';

/** One entry of a `TimerQueue`: at most one pending due time at a time. */
export class QueuedTimer {
  /** @internal */ dueAt = Number.NaN;
  /** @internal */ heapIndex = -1;
  /** @internal */ order = 0;
  /** @internal */ state: TimerState = 'idle';

  /** @internal */
  constructor(
    private readonly queue: TimerQueue,
    /** @internal */ readonly run: (dueAt: number) => Promise<void>,
  ) {}

  /** Runs at `dueAt` (at once when it has passed), replacing any pending due time. */
  schedule(dueAt: number): void {
    this.queue.schedule(this, dueAt);
  }

  /** Drops the pending due time, if any; a run already in flight finishes. */
  cancel(): void {
    this.queue.cancel(this);
  }

  get pending(): boolean {
    return this.state === 'waiting' || this.state === 'ready';
  }
}

/**
 * One timer for many scheduled runs: a binary min-heap of due times and a single clock timer
 * armed for the earliest, so that 100,000 alarms cost 100,000 heap entries, not 100,000 timers.
 * Due runs start concurrently up to `maxInFlight`; none is awaited by the timer callback.
 */
export class TimerQueue {
  private readonly heap: QueuedTimer[] = [];
  private ready: QueuedTimer[] = [];
  private readyHead = 0;
  private running = 0;
  private nextOrder = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private closed = false;
  private readonly maxInFlight: number;
  private readonly maxTimerDelayMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly options: TimerQueueOptions = {},
  ) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1000);
    this.maxTimerDelayMs = options.maxTimerDelayMs ?? 24 * 60 * 60 * 1000;
  }

  register(run: (dueAt: number) => Promise<void>): QueuedTimer {
    return new QueuedTimer(this, run);
  }

  /** Entries waiting for their due time or for a free slot. */
  get size(): number {
    return this.heap.length + this.ready.length - this.readyHead;
  }

  get inFlight(): number {
    return this.running;
  }

  /** Stops the timer and forgets every pending entry; runs in flight finish on their own. */
  close(): void {
    this.closed = true;
    this.disarm();
    for (const entry of this.heap) {
      entry.state = 'idle';
      entry.heapIndex = -1;
    }
    this.heap.length = 0;
    this.ready = [];
    this.readyHead = 0;
  }

  /** @internal */
  schedule(entry: QueuedTimer, dueAt: number): void {
    if (this.closed) return;
    if (entry.heapIndex >= 0) this.removeAt(entry.heapIndex);
    entry.dueAt = dueAt;
    entry.order = this.nextOrder++;
    entry.state = 'waiting';
    entry.heapIndex = this.heap.length;
    this.heap.push(entry);
    this.siftUp(entry.heapIndex);
    this.arm();
  }

  /** @internal */
  cancel(entry: QueuedTimer): void {
    if (entry.heapIndex >= 0) this.removeAt(entry.heapIndex);
    // An entry in the ready list is skipped when its turn comes.
    if (entry.state === 'waiting' || entry.state === 'ready') entry.state = 'idle';
  }

  private arm(): void {
    const top = this.heap[0];
    if (this.closed || !top) {
      this.disarm();
      return;
    }
    // A timer due no later than the top stays: when it fires it drains and re-arms.
    if (this.timer && this.timerAt <= top.dueAt) return;
    this.disarm();
    const now = this.clock.now();
    const delay = Math.min(Math.max(0, top.dueAt - now), this.maxTimerDelayMs);
    this.timerAt = now + delay;
    this.timer = this.clock.setTimeout(() => this.onTimer(), delay);
  }

  private disarm(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.closed) return;
    const now = this.clock.now();
    for (let top = this.heap[0]; top && top.dueAt <= now; top = this.heap[0]) {
      this.removeAt(0);
      top.state = 'ready';
      this.ready.push(top);
    }
    this.pump();
    this.arm();
  }

  private pump(): void {
    while (this.running < this.maxInFlight && this.readyHead < this.ready.length) {
      const entry = this.ready[this.readyHead++] as QueuedTimer;
      if (entry.state !== 'ready') continue;
      entry.state = 'running';
      this.running++;
      let result: Promise<void>;
      try {
        result = entry.run(entry.dueAt);
      } catch (error) {
        result = Promise.reject(error);
      }
      const settled = () => {
        this.running--;
        if (entry.state === 'running') entry.state = 'idle';
        this.pump();
      };
      result.then(settled, (error: unknown) => {
        this.options.onRunError?.(error);
        settled();
      });
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
  }

  private before(a: QueuedTimer, b: QueuedTimer): boolean {
    return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.order < b.order);
  }

  private removeAt(index: number): void {
    const entry = this.heap[index] as QueuedTimer;
    const last = this.heap.pop() as QueuedTimer;
    entry.heapIndex = -1;
    if (last !== entry) {
      this.heap[index] = last;
      last.heapIndex = index;
      this.siftDown(index);
      this.siftUp(last.heapIndex);
    }
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const entry = heap[index] as QueuedTimer;
    let i = index;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex] as QueuedTimer;
      if (!this.before(entry, parent)) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const size = heap.length;
    const entry = heap[index] as QueuedTimer;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      let child = left;
      if (right < size && this.before(heap[right] as QueuedTimer, heap[left] as QueuedTimer)) child = right;
      const candidate = heap[child] as QueuedTimer;
      if (!this.before(candidate, entry)) break;
      heap[i] = candidate;
      candidate.heapIndex = i;
      i = child;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }
}
