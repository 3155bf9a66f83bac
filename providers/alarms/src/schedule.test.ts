import { describe, expect, it } from '@jest/globals';
import { IntervalSchedule, OnceSchedule, phaseOf } from './schedule.js';

describe('IntervalSchedule', () => {
  const minute = 60_000;

  it('fires on the slots anchor + k·period, at or after a time', () => {
    const schedule = new IntervalSchedule(minute, 5_000);
    expect(schedule.firstAtOrAfter(0)).toBe(5_000);
    expect(schedule.firstAtOrAfter(5_000)).toBe(5_000);
    expect(schedule.firstAtOrAfter(5_001)).toBe(65_000);
    expect(schedule.latestAtOrBefore(200_000, 0, 10)).toEqual([185_000, 125_000, 65_000, 5_000]);
    expect(schedule.latestAtOrBefore(200_000, 100_000, 10)).toEqual([185_000, 125_000]);
    expect(schedule.latestAtOrBefore(200_000, 0, 1)).toEqual([185_000]);
  });

  it('starts at startDate and stops at stopDate (inclusive)', () => {
    const schedule = new IntervalSchedule(minute, 1_000_000, { start: 1_000_000, stop: 1_000_000 + 2 * minute });
    expect(schedule.firstAtOrAfter(0)).toBe(1_000_000);
    expect(schedule.firstAtOrAfter(1_000_000 + 2 * minute)).toBe(1_000_000 + 2 * minute);
    expect(schedule.firstAtOrAfter(1_000_000 + 2 * minute + 1)).toBeUndefined();
    expect(schedule.latestAtOrBefore(Number.MAX_SAFE_INTEGER, 0, 10)).toEqual([1_120_000, 1_060_000, 1_000_000]);
  });
});

describe('OnceSchedule', () => {
  it('has one fire time', () => {
    const schedule = new OnceSchedule(1000);
    expect(schedule.firstAtOrAfter(0)).toBe(1000);
    expect(schedule.firstAtOrAfter(1001)).toBeUndefined();
    expect(schedule.latestAtOrBefore(5000, 0, 3)).toEqual([1000]);
    expect(schedule.latestAtOrBefore(5000, 1001, 3)).toEqual([]);
  });
});

describe('phaseOf', () => {
  it('is stable for a feed id and spreads many feeds over the interval', () => {
    expect(phaseOf('feed-a', 10_000)).toBe(phaseOf('feed-a', 10_000));
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(phaseOf(`feed-${i}`, 10_000) / 1000)]! += 1;
    // Each second of a 10 s interval gets roughly a tenth of the feeds.
    for (const count of buckets) expect(count).toBeGreaterThan(800);
  });
});
