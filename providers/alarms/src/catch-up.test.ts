import { describe, expect, it } from '@jest/globals';
import { MISFIRE_GRACE_MS, nextFire } from './catch-up.js';
import { IntervalSchedule } from './schedule.js';

/** Slots every minute on the minute; the feed last fired at slot 0 and was down for ten slots. */
const minute = 60_000;
const schedule = new IntervalSchedule(minute, 0);
const from = 1; // everything after slot 0 is owed
const now = 10 * minute + 5_000;

describe('nextFire', () => {
  it('waits for the next slot when nothing was missed', () => {
    expect(nextFire(schedule, from, 30_000, { mode: 'none', max: 100 })).toEqual({ at: minute });
    expect(nextFire(schedule, from, minute, { mode: 'all', max: 100 })).toEqual({ at: minute });
  });

  it("none: skips the missed slots and waits for the next one", () => {
    expect(nextFire(schedule, from, now, { mode: 'none', max: 100 })).toEqual({ at: 11 * minute, skipped: { first: minute, last: 10 * minute } });
  });

  it('last: fires the most recent missed slot only', () => {
    expect(nextFire(schedule, from, now, { mode: 'last', max: 100 })).toEqual({ at: 10 * minute, skipped: { first: minute, last: 9 * minute } });
  });

  it('all: fires every missed slot, oldest first', () => {
    expect(nextFire(schedule, from, now, { mode: 'all', max: 100 })).toEqual({ at: minute });
  });

  it('all: makes up only the maxCatchUp most recent slots', () => {
    expect(nextFire(schedule, from, now, { mode: 'all', max: 3 })).toEqual({ at: 8 * minute, skipped: { first: minute, last: 7 * minute } });
  });

  it('treats a slot overdue by less than the grace as late, not missed, even under none', () => {
    expect(nextFire(schedule, from, minute + MISFIRE_GRACE_MS - 1, { mode: 'none', max: 100 })).toEqual({ at: minute });
    expect(nextFire(schedule, from, minute + MISFIRE_GRACE_MS + 1, { mode: 'none', max: 100 }).at).toBe(2 * minute);
  });

  it('reports no next fire when the schedule is over', () => {
    const bounded = new IntervalSchedule(minute, 0, { stop: 5 * minute });
    expect(nextFire(bounded, 5 * minute + 1, now, { mode: 'last', max: 100 })).toEqual({ at: undefined });
    expect(nextFire(bounded, from, now, { mode: 'none', max: 100 }).at).toBeUndefined();
    expect(nextFire(bounded, from, now, { mode: 'last', max: 100 }).at).toBe(5 * minute);
  });
});
