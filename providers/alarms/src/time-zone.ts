/**
 * Wall-clock time in an IANA time zone, computed with the platform's `Intl` data (no extra
 * dependency). A *wall time* is a "floating" epoch: the UTC epoch whose UTC fields read like the
 * local clock, so that a cron expression can be matched against it in plain UTC arithmetic and
 * the DST rules applied in one place, `instantOf`.
 */
export class TimeZone {
  private static readonly cache = new Map<string, TimeZone>();
  static readonly utc = new TimeZone('UTC', undefined);

  /** The zone named `name`; throws a RangeError when the platform does not know it. */
  static of(name: string): TimeZone {
    let zone = TimeZone.cache.get(name);
    if (!zone) {
      const format = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
      const resolved = format.resolvedOptions().timeZone;
      zone = resolved === 'UTC' || resolved === 'Etc/UTC' ? TimeZone.utc : new TimeZone(resolved, format);
      TimeZone.cache.set(name, zone);
    }
    return zone;
  }

  /** Whether `name` is a time zone this platform knows. */
  static isValid(name: string): boolean {
    try {
      TimeZone.of(name);
      return true;
    } catch {
      return false;
    }
  }

  private constructor(
    readonly name: string,
    private readonly format: Intl.DateTimeFormat | undefined,
  ) {}

  /** Local clock minus UTC at `instant`, in milliseconds. */
  offsetAt(instant: number): number {
    if (!this.format) return 0;
    let year = 1970;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of this.format.formatToParts(instant)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          second = Number(part.value);
          break;
        default:
          break;
      }
    }
    return Date.UTC(year, month - 1, day, hour, minute, second) - Math.floor(instant / 1000) * 1000;
  }

  /** What the local clock reads at `instant`. */
  wallOf(instant: number): number {
    return instant + this.offsetAt(instant);
  }

  /**
   * The instant a wall time names. A wall time the clocks skip (spring forward) names the first
   * instant after the gap; a wall time that happens twice (fall back) names its first occurrence.
   * The mapping never decreases as the wall time grows, so schedules stay in order.
   */
  instantOf(wall: number): number {
    if (!this.format) return wall;
    const DAY = 86_400_000;
    const before = this.offsetAt(wall - DAY);
    const after = this.offsetAt(wall + DAY);
    let first: number | undefined;
    for (const offset of before === after ? [before] : [before, after]) {
      const instant = wall - offset;
      if (this.offsetAt(instant) === offset && (first === undefined || instant < first)) first = instant;
    }
    if (first !== undefined) return first;
    if (before === after) return wall - before;
    // In the gap: the clocks jumped from `before` to `after` somewhere in this window.
    return this.firstInstantWithOffset(wall - after, wall - before, after);
  }

  /**
   * When `instant` falls in the second pass of a repeated hour (after the clocks went back), the
   * wall time at which that repeated stretch ends; otherwise undefined. Wall times before it were
   * already lived through once, so a schedule must not fire them again.
   */
  repeatEndAt(instant: number): number | undefined {
    if (!this.format) return undefined;
    const firstOccurrence = this.instantOf(this.wallOf(instant));
    if (firstOccurrence >= instant) return undefined;
    const offsetBefore = this.offsetAt(firstOccurrence);
    const transition = this.firstInstantWithOffset(firstOccurrence, instant, this.offsetAt(instant));
    return transition + offsetBefore;
  }

  /** Binary search in (low, high] for the first instant whose offset is `offset` (true at high). */
  private firstInstantWithOffset(low: number, high: number, offset: number): number {
    let lo = low;
    let hi = high;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offsetAt(mid) === offset) hi = mid;
      else lo = mid;
    }
    return hi;
  }
}
