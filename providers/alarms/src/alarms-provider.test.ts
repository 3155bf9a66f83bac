import { describe, expect, it } from '@jest/globals';
import { FeedError } from '@kindling/sdk';
import { alarmEventId, alarmsProvider, type AlarmCursor } from './index.js';
import { FakeClock, settle } from '@kindling/provider-testkit';
import { FakeBus, FakeFeedHost } from './testing/fake-feed-host.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const SECOND = 1000;

/** An interval feed every second, slots on whole seconds (startDate pins the phase). */
const everySecond = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'interval',
  params: { seconds: 1, startDate: T0, trigger_payload: { job: id }, ...extra },
});

const hostAt = (time: number | string, bus?: FakeBus, cursors?: Map<string, unknown>) =>
  new FakeFeedHost(alarmsProvider, new FakeClock(time), bus, cursors);

const isoOf = (time: number) => new Date(time).toISOString();

describe('alarms provider: firing', () => {
  it('fires each slot with an id derived from feed and scheduled time, the payload as data', async () => {
    const host = hostAt(T0 + 500);
    await host.start(everySecond('f1'));
    await host.clock.advance(3 * SECOND);
    expect(host.bus.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000), isoOf(T0 + 3000)]);
    expect(host.bus.events[0]).toMatchObject({ id: 'f1@2024-01-01T00:00:01.000Z', data: { job: 'f1' } });
    expect(alarmEventId('f1', T0 + 1000)).toBe('f1@2024-01-01T00:00:01.000Z');
    expect(host.cursorOf<AlarmCursor>('f1')).toMatchObject({ lastFireAt: T0 + 3000, fires: 3 });
    await host.stopAll();
  });

  it('stores the last fire time only once the fire is durable', async () => {
    const host = hostAt(T0 + 500);
    let release!: () => void;
    host.bus.gate = () => new Promise<void>((resolve) => (release = resolve));
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    expect(host.bus.publishes).toBe(1);
    expect(host.bus.events).toHaveLength(0);
    expect(host.cursorOf<AlarmCursor>('f1')?.lastFireAt).toBeUndefined();
    host.bus.gate = undefined;
    release();
    await settle();
    expect(host.bus.events).toHaveLength(1);
    expect(host.cursorOf<AlarmCursor>('f1')).toMatchObject({ lastFireAt: T0 + 1000, fires: 1 });
    await host.stopAll();
  });

  it('uses one clock timer for many feeds of a host', async () => {
    const host = hostAt(T0 + 500);
    for (let i = 0; i < 500; i++) await host.start({ id: `f${i}`, kind: 'interval', params: { seconds: 10 } });
    expect(host.clock.pendingTimers).toBe(1);
    await host.clock.advance(10 * SECOND);
    expect(host.bus.events).toHaveLength(500);
    expect(host.clock.pendingTimers).toBe(1);
    await host.stopAll();
    expect(host.clock.pendingTimers).toBe(0);
  });

  it('spreads interval feeds without startDate over the interval, at stable slots', async () => {
    const host = hostAt(T0);
    for (let i = 0; i < 100; i++) await host.start({ id: `f${i}`, kind: 'interval', params: { seconds: 10 } });
    await host.clock.advance(10 * SECOND);
    const offsets = new Set(host.bus.events.map((e) => Math.floor((Date.parse(e.time) - T0) / SECOND)));
    expect(offsets.size).toBeGreaterThan(5);
    await host.stopAll();
  });

  it('fires a cron alarm in its time zone', async () => {
    const host = hostAt('2024-07-01T00:00:00Z');
    await host.start({ id: 'c1', kind: 'alarm', params: { cron: '0 9 * * *', timezone: 'Europe/Paris' } });
    await host.clock.advanceTo('2024-07-03T00:00:00Z');
    expect(host.bus.times()).toEqual(['2024-07-01T07:00:00.000Z', '2024-07-02T07:00:00.000Z']);
    await host.stopAll();
  });

  it('fires once at the first instant after a DST gap, and once in a repeated hour', async () => {
    const spring = hostAt('2024-03-09T12:00:00Z');
    await spring.start({ id: 'gap', kind: 'alarm', params: { cron: '30 2 * * *', timezone: 'America/New_York' } });
    await spring.clock.advanceTo('2024-03-11T12:00:00Z');
    expect(spring.bus.times()).toEqual(['2024-03-10T07:00:00.000Z', '2024-03-11T06:30:00.000Z']);
    await spring.stopAll();

    const fall = hostAt('2024-11-02T12:00:00Z');
    await fall.start({ id: 'repeat', kind: 'alarm', params: { cron: '30 1 * * *', timezone: 'America/New_York' } });
    await fall.clock.advanceTo('2024-11-04T12:00:00Z');
    expect(fall.bus.times()).toEqual(['2024-11-03T05:30:00.000Z', '2024-11-04T06:30:00.000Z']);
    await fall.stopAll();
  });
});

describe('alarms provider: stop and restart', () => {
  it('never fires after stop, and stops quietly when the fire in flight is refused', async () => {
    const host = hostAt(T0 + 500);
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    await host.stop('f1');
    await host.clock.advance(10 * SECOND);
    expect(host.bus.events).toHaveLength(1);
    expect(host.failures).toEqual([]);
    expect(host.clock.pendingTimers).toBe(0);
  });

  it('waits for a fire in flight on stop and records it, so a restart does not repeat it', async () => {
    const host = hostAt(T0 + 500);
    let release!: () => void;
    host.bus.gate = () => new Promise<void>((resolve) => (release = resolve));
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    const stopping = host.stop('f1');
    host.bus.gate = undefined;
    release();
    await stopping;
    expect(host.cursorOf<AlarmCursor>('f1')).toMatchObject({ lastFireAt: T0 + 1000, fires: 1 });
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    expect(host.bus.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000)]);
    expect(host.bus.publishes).toBe(2);
    await host.stopAll();
  });

  it('starts afresh on the first start: no catch-up, even with a startDate long past', async () => {
    const host = hostAt(T0 + 3_600_000 + 500);
    await host.start(everySecond('f1', { catchUp: 'all' }));
    await host.clock.advance(SECOND);
    expect(host.bus.times()).toEqual([isoOf(T0 + 3_601_000)]);
    await host.stopAll();
  });

  async function downtime(policy: Record<string, unknown>): Promise<string[]> {
    const host = hostAt(T0 + 500);
    await host.start(everySecond('f1', policy));
    await host.clock.advance(2 * SECOND); // fires 1 s and 2 s
    await host.stop('f1');
    await host.clock.advance(10 * SECOND); // down over the slots 3 s … 12 s (now 12.5 s)
    await host.start(everySecond('f1', policy));
    await host.clock.advance(SECOND); // catch-up, then the 13 s slot
    await host.stopAll();
    return host.bus.times().map((t) => `${(Date.parse(t) - T0) / SECOND}s`);
  }

  it("catchUp 'none' skips what was missed while down", async () => {
    expect(await downtime({ catchUp: 'none' })).toEqual(['1s', '2s', '13s']);
  });

  it("catchUp 'last' (the default) fires the most recent missed slot, then goes on", async () => {
    expect(await downtime({})).toEqual(['1s', '2s', '12s', '13s']);
  });

  it("catchUp 'all' fires every missed slot, oldest first", async () => {
    expect(await downtime({ catchUp: 'all' })).toEqual(['1s', '2s', '3s', '4s', '5s', '6s', '7s', '8s', '9s', '10s', '11s', '12s', '13s']);
  });

  it("catchUp 'all' makes up at most maxCatchUp, the most recent", async () => {
    expect(await downtime({ catchUp: 'all', maxCatchUp: 3 })).toEqual(['1s', '2s', '10s', '11s', '12s', '13s']);
  });

  it('does not make up a pause: a resumed feed (new generation) fires from now, whatever the policy', async () => {
    const host = hostAt(T0 + 500);
    await host.start(everySecond('f1', { catchUp: 'all' }));
    await host.clock.advance(2 * SECOND);
    await host.stop('f1'); // paused
    await host.clock.advance(10 * SECOND);
    await host.start({ ...everySecond('f1', { catchUp: 'all' }), generation: 2 }); // resumed at 12.5 s
    await host.clock.advance(SECOND);
    expect(host.bus.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000), isoOf(T0 + 13_000)]);
    expect(host.cursorOf<AlarmCursor>('f1')).toMatchObject({ generation: 2, fires: 3 });
    await host.stopAll();
  });

  it('counts maxTriggers across restarts, then reports itself done and fires no more', async () => {
    const host = hostAt(T0 + 500);
    const feed = everySecond('f1', { maxTriggers: 3 });
    await host.start(feed);
    await host.clock.advance(2 * SECOND);
    await host.stop('f1');
    await host.start(feed);
    await host.clock.advance(5 * SECOND);
    expect(host.bus.events).toHaveLength(3);
    expect(host.failures).toEqual([]);
    expect(host.completions).toHaveLength(1);
    expect(host.completions[0]).toMatchObject({ feedId: 'f1', options: {} });
    expect(host.completions[0]?.reason).toContain('maxTriggers (3) reached');
    expect(host.isRunning('f1')).toBe(false);
    expect(host.cursorOf<AlarmCursor>('f1')?.done?.reason).toContain('maxTriggers (3) reached');
    // Started again (a host that lost the status): done at once, nothing fired.
    await host.start(feed);
    expect(host.completions).toHaveLength(2);
    expect(host.completions[1]?.reason).toContain('done');
    expect(host.bus.events).toHaveLength(3);
  });

  it('fires again after an update raises maxTriggers', async () => {
    const host = hostAt(T0 + 500);
    await host.start(everySecond('f1', { maxTriggers: 1 }));
    await host.clock.advance(2 * SECOND);
    expect(host.bus.events).toHaveLength(1);
    await host.start({ ...everySecond('f1', { maxTriggers: 2 }), generation: 2 });
    await host.clock.advance(SECOND);
    expect(host.bus.events).toHaveLength(2);
    expect(host.cursorOf<AlarmCursor>('f1')?.done).toBeDefined();
  });

  it('starts afresh when an update changes the schedule', async () => {
    const host = hostAt(T0 + 500);
    await host.start(everySecond('f1'));
    await host.clock.advance(2 * SECOND);
    await host.stop('f1');
    await host.clock.advance(60 * SECOND);
    await host.start({ id: 'f1', kind: 'interval', params: { seconds: 5, startDate: T0, catchUp: 'all' }, generation: 2 });
    await host.clock.advance(5 * SECOND);
    expect(host.bus.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000), isoOf(T0 + 65_000)]);
    expect(host.cursorOf<AlarmCursor>('f1')?.fires).toBe(1);
    await host.stopAll();
  });

  it('reports a failed fire to the host and re-fires the same slot, same id, on restart', async () => {
    const host = hostAt(T0 + 500);
    host.bus.gate = async () => {
      throw new Error('bus unavailable');
    };
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    expect(host.failures).toHaveLength(1);
    expect((host.failures[0]?.error as FeedError).retryable).toBe(true);
    expect(host.cursorOf<AlarmCursor>('f1')?.lastFireAt).toBeUndefined();
    host.bus.gate = undefined;
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    expect(host.bus.events.map((e) => e.id)).toEqual([alarmEventId('f1', T0 + 1000), alarmEventId('f1', T0 + 2000)]);
    await host.stopAll();
  });

  it('fires each slot once when two hosts run the same feed (ids de-duplicate on the bus)', async () => {
    const bus = new FakeBus();
    const cursors = new Map<string, unknown>();
    const a = hostAt(T0 + 500, bus, cursors);
    const b = new FakeFeedHost(alarmsProvider, a.clock, bus, cursors);
    await a.start(everySecond('f1'));
    await b.start(everySecond('f1'));
    await a.clock.advance(3 * SECOND);
    expect(bus.publishes).toBe(6);
    expect(bus.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000), isoOf(T0 + 3000)]);
    await a.stopAll();
    await b.stopAll();
  });
});

describe('alarms provider: once', () => {
  it('fires once at its date and reports itself done, passing deleteAfterFire on', async () => {
    const host = hostAt(T0);
    await host.start({ id: 'o1', kind: 'once', params: { date: isoOf(T0 + 5000), deleteAfterFire: true, trigger_payload: '{"x":1}' } });
    await host.clock.advance(60 * SECOND);
    expect(host.bus.events).toHaveLength(1);
    expect(host.bus.events[0]).toMatchObject({ time: isoOf(T0 + 5000), data: { x: 1 }, id: alarmEventId('o1', T0 + 5000) });
    expect(host.completions).toEqual([
      { feedId: 'o1', reason: `the alarm is done: it fired once, at ${isoOf(T0 + 5000)}`, options: { deleteTrigger: true } },
    ]);
    expect(host.cursorOf<AlarmCursor>('o1')?.done).toMatchObject({ deleteAfterFire: true });
  });

  it('fires late when the host was down at its date, or not at all under catchUp none', async () => {
    const host = hostAt(T0 + 60_000);
    await host.start({ id: 'late', kind: 'once', params: { date: T0 + 5000 } });
    await host.start({ id: 'skip', kind: 'once', params: { date: T0 + 5000, catchUp: 'none' } });
    expect(host.completions.map((c) => c.feedId)).toEqual(['skip']);
    expect(host.completions[0]?.reason).toContain("its date passed while the feed was not running, and catchUp is 'none'");
    await host.clock.advance(SECOND);
    expect(host.bus.events.map((e) => e.id)).toEqual([alarmEventId('late', T0 + 5000)]);
  });
});

describe('alarms provider: stopDate', () => {
  it('fires up to stopDate, then reports itself done', async () => {
    const host = hostAt(T0 + 500);
    await host.start(everySecond('f1', { stopDate: T0 + 3000 }));
    await host.clock.advance(10 * SECOND);
    expect(host.bus.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000), isoOf(T0 + 3000)]);
    expect(host.completions[0]?.reason).toContain('no fire time is left before stopDate');
  });
});
