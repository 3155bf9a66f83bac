import { describe, expect, it } from '@jest/globals';
import { CronSchedule } from './cron-schedule.js';
import { TimeZone } from './time-zone.js';

const at = (iso: string) => Date.parse(iso);
const iso = (time: number | undefined) => (time === undefined ? undefined : new Date(time).toISOString());

/** The first `count` fire times at or after `from`, as ISO strings. */
function fires(schedule: CronSchedule, from: string, count: number): Array<string | undefined> {
  const out: Array<string | undefined> = [];
  let t = at(from);
  for (let i = 0; i < count; i++) {
    const next = schedule.firstAtOrAfter(t);
    out.push(iso(next));
    if (next === undefined) break;
    t = next + 1;
  }
  return out;
}

describe('CronSchedule in UTC', () => {
  it('computes next fire times for 5- and 6-field expressions', () => {
    expect(fires(new CronSchedule('*/15 * * * *'), '2024-01-01T10:07:00Z', 3)).toEqual([
      '2024-01-01T10:15:00.000Z',
      '2024-01-01T10:30:00.000Z',
      '2024-01-01T10:45:00.000Z',
    ]);
    expect(fires(new CronSchedule('*/20 * * * * *'), '2024-01-01T10:00:05.500Z', 3)).toEqual([
      '2024-01-01T10:00:20.000Z',
      '2024-01-01T10:00:40.000Z',
      '2024-01-01T10:01:00.000Z',
    ]);
  });

  it('counts a time exactly on the schedule as due', () => {
    expect(iso(new CronSchedule('0 * * * *').firstAtOrAfter(at('2024-01-01T10:00:00Z')))).toBe('2024-01-01T10:00:00.000Z');
  });

  it('follows standard cron when both day fields are set: either one matches', () => {
    expect(fires(new CronSchedule('0 0 13 * 5'), '2024-01-01T00:00:00Z', 3)).toEqual([
      '2024-01-05T00:00:00.000Z',
      '2024-01-12T00:00:00.000Z',
      '2024-01-13T00:00:00.000Z',
    ]);
  });

  it('stays within startDate and stopDate', () => {
    const schedule = new CronSchedule('0 * * * *', TimeZone.utc, { start: at('2024-01-01T12:30:00Z'), stop: at('2024-01-01T14:00:00Z') });
    expect(fires(schedule, '2024-01-01T00:00:00Z', 4)).toEqual(['2024-01-01T13:00:00.000Z', '2024-01-01T14:00:00.000Z', undefined]);
    expect(schedule.latestAtOrBefore(at('2024-01-02T00:00:00Z'), 0, 5).map(iso)).toEqual(['2024-01-01T14:00:00.000Z', '2024-01-01T13:00:00.000Z']);
  });

  it('lists the latest fire times before a time, latest first, bounded by floor and limit', () => {
    const schedule = new CronSchedule('*/10 * * * *');
    expect(schedule.latestAtOrBefore(at('2024-01-01T10:35:00Z'), at('2024-01-01T10:05:00Z'), 10).map(iso)).toEqual([
      '2024-01-01T10:30:00.000Z',
      '2024-01-01T10:20:00.000Z',
      '2024-01-01T10:10:00.000Z',
    ]);
    expect(schedule.latestAtOrBefore(at('2024-01-01T10:30:00Z'), 0, 2).map(iso)).toEqual(['2024-01-01T10:30:00.000Z', '2024-01-01T10:20:00.000Z']);
  });
});

describe('CronSchedule in a time zone', () => {
  it('reads the expression on the local clock', () => {
    const paris = new CronSchedule('0 9 * * *', TimeZone.of('Europe/Paris'));
    expect(iso(paris.firstAtOrAfter(at('2024-01-15T00:00:00Z')))).toBe('2024-01-15T08:00:00.000Z');
    expect(iso(paris.firstAtOrAfter(at('2024-07-15T00:00:00Z')))).toBe('2024-07-15T07:00:00.000Z');
    const kolkata = new CronSchedule('0 9 * * *', TimeZone.of('Asia/Kolkata'));
    expect(iso(kolkata.firstAtOrAfter(at('2024-07-15T00:00:00Z')))).toBe('2024-07-15T03:30:00.000Z');
  });

  describe('spring forward (New York, 2024-03-10, 02:00 EST → 03:00 EDT)', () => {
    const ny = TimeZone.of('America/New_York');

    it('fires a skipped wall time once, at the first instant after the gap (03:00 EDT)', () => {
      expect(fires(new CronSchedule('30 2 * * *', ny), '2024-03-09T12:00:00Z', 3)).toEqual([
        '2024-03-10T07:00:00.000Z',
        '2024-03-11T06:30:00.000Z',
        '2024-03-12T06:30:00.000Z',
      ]);
    });

    it('fires several skipped wall times, and an on-the-hour one, as one fire', () => {
      expect(fires(new CronSchedule('*/15 2,3 * * *', ny), '2024-03-10T06:50:00Z', 4)).toEqual([
        '2024-03-10T07:00:00.000Z',
        '2024-03-10T07:15:00.000Z',
        '2024-03-10T07:30:00.000Z',
        '2024-03-10T07:45:00.000Z',
      ]);
      expect(new CronSchedule('15,45 2 * * *', ny).latestAtOrBefore(at('2024-03-10T07:50:00Z'), at('2024-03-10T00:00:00Z'), 5).map(iso)).toEqual([
        '2024-03-10T07:00:00.000Z',
      ]);
    });

    it('keeps hourly schedules going across the gap', () => {
      expect(fires(new CronSchedule('0 * * * *', ny), '2024-03-10T05:30:00Z', 3)).toEqual([
        '2024-03-10T06:00:00.000Z',
        '2024-03-10T07:00:00.000Z',
        '2024-03-10T08:00:00.000Z',
      ]);
    });
  });

  describe('fall back (New York, 2024-11-03, 02:00 EDT → 01:00 EST)', () => {
    const ny = TimeZone.of('America/New_York');

    it('fires a repeated wall time once, at its first occurrence', () => {
      expect(fires(new CronSchedule('30 1 * * *', ny), '2024-11-02T12:00:00Z', 2)).toEqual(['2024-11-03T05:30:00.000Z', '2024-11-04T06:30:00.000Z']);
    });

    it('does not fire the second pass of the repeated hour, even for sub-hourly schedules', () => {
      expect(fires(new CronSchedule('*/30 * * * *', ny), '2024-11-03T04:15:00Z', 4)).toEqual([
        '2024-11-03T04:30:00.000Z', // 00:30 EDT
        '2024-11-03T05:00:00.000Z', // 01:00 EDT
        '2024-11-03T05:30:00.000Z', // 01:30 EDT
        '2024-11-03T07:00:00.000Z', // 02:00 EST: 01:00 and 01:30 EST were already lived through
      ]);
    });

    it('does not fire again when asked from inside the second pass (a restart at 01:10 EST)', () => {
      const daily = new CronSchedule('30 1 * * *', ny);
      expect(iso(daily.firstAtOrAfter(at('2024-11-03T06:10:00Z')))).toBe('2024-11-04T06:30:00.000Z');
      const every20 = new CronSchedule('*/20 * * * *', ny);
      expect(iso(every20.firstAtOrAfter(at('2024-11-03T06:10:00Z')))).toBe('2024-11-03T07:00:00.000Z');
      expect(every20.latestAtOrBefore(at('2024-11-03T06:10:00Z'), 0, 2).map(iso)).toEqual(['2024-11-03T05:40:00.000Z', '2024-11-03T05:20:00.000Z']);
    });
  });
});

describe('TimeZone', () => {
  const ny = TimeZone.of('America/New_York');

  it('maps wall times to instants: skipped ones to the end of the gap, repeated ones to their first occurrence', () => {
    expect(iso(ny.instantOf(at('2024-07-01T12:00:00Z')))).toBe('2024-07-01T16:00:00.000Z');
    expect(iso(ny.instantOf(at('2024-03-10T02:30:00Z')))).toBe('2024-03-10T07:00:00.000Z');
    expect(iso(ny.instantOf(at('2024-11-03T01:30:00Z')))).toBe('2024-11-03T05:30:00.000Z');
  });

  it('knows which instants are in the second pass of a repeated hour', () => {
    expect(ny.repeatEndAt(at('2024-11-03T05:30:00Z'))).toBeUndefined();
    expect(iso(ny.repeatEndAt(at('2024-11-03T06:30:00Z')))).toBe('2024-11-03T02:00:00.000Z');
    expect(ny.repeatEndAt(at('2024-11-03T07:30:00Z'))).toBeUndefined();
  });

  it('validates names and resolves aliases', () => {
    expect(TimeZone.isValid('Europe/Paris')).toBe(true);
    expect(TimeZone.isValid('Mars/Olympus_Mons')).toBe(false);
    expect(TimeZone.of('utc')).toBe(TimeZone.utc);
    expect(TimeZone.of('Asia/Kolkata').offsetAt(at('2024-01-01T00:00:00Z'))).toBe(5.5 * 3_600_000);
  });
});
