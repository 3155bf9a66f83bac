/**
 * The fire times of one alarm, as epoch milliseconds. Every method answers within the alarm's
 * bounds (startDate, stopDate), so callers never filter again.
 */
export interface Schedule {
  /** The first fire time at or after `time`, or undefined when none is left. */
  firstAtOrAfter(time: number): number | undefined;
  /** Fire times in [`floor`, `time`], latest first, at most `limit` of them. */
  latestAtOrBefore(time: number, floor: number, limit: number): number[];
}

export interface ScheduleBounds {
  /** No fire before this instant. */
  start?: number;
  /** No fire after this instant. */
  stop?: number;
}

/**
 * Every `periodMs`, on the slots `anchor + k·periodMs`. The anchor does not depend on when the
 * feed started, so the slots (and the event ids derived from them) are the same after a restart
 * or on another host.
 */
export class IntervalSchedule implements Schedule {
  constructor(
    private readonly periodMs: number,
    private readonly anchor: number,
    private readonly bounds: ScheduleBounds = {},
  ) {}

  firstAtOrAfter(time: number): number | undefined {
    const from = Math.max(time, this.bounds.start ?? -Infinity);
    const slot = this.anchor + Math.ceil((from - this.anchor) / this.periodMs) * this.periodMs;
    return this.bounds.stop !== undefined && slot > this.bounds.stop ? undefined : slot;
  }

  latestAtOrBefore(time: number, floor: number, limit: number): number[] {
    const to = Math.min(time, this.bounds.stop ?? Infinity);
    const lowest = Math.max(floor, this.bounds.start ?? -Infinity);
    const slots: number[] = [];
    for (let slot = this.anchor + Math.floor((to - this.anchor) / this.periodMs) * this.periodMs; slot >= lowest && slots.length < limit; slot -= this.periodMs) {
      slots.push(slot);
    }
    return slots;
  }
}

/** A single fire time. */
export class OnceSchedule implements Schedule {
  constructor(private readonly at: number) {}

  firstAtOrAfter(time: number): number | undefined {
    return this.at >= time ? this.at : undefined;
  }

  latestAtOrBefore(time: number, floor: number, limit: number): number[] {
    return this.at <= time && this.at >= floor && limit > 0 ? [this.at] : [];
  }
}

/**
 * The interval phase of a feed without `startDate`: a stable offset derived from the feed id, so
 * that many feeds with the same interval spread over it instead of all firing in the same
 * millisecond (the thundering herd alarms users reported), and so that it survives restarts.
 */
export function phaseOf(feedId: string, periodMs: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < feedId.length; i++) {
    hash ^= feedId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % periodMs;
}
