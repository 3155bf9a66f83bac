import { afterEach, describe, expect, it } from '@jest/globals';
import { silentLogger } from '@kindling/sdk';
import { alarmEventId, alarmsProvider, type AlarmCursor } from './index.js';
import {
  cursorValue,
  eventually,
  FakeClock,
  FaultyBus,
  openEmbeddedBackend,
  openFeedHarness,
  type EmbeddedBackend,
  type FeedHarness,
  type FeedHost,
  type FeedRecord,
} from '@kindling/provider-testkit';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const SECOND = 1000;

interface FeedSpec {
  id: string;
  kind: string;
  params: Record<string, unknown>;
  generation?: number;
  /**
   * Store the params as they are: the API validates dates against the real clock, and these
   * tests run in 2024 on the fake one.
   */
  asIs?: boolean;
}

/** An interval feed every second, slots on whole seconds (startDate pins the phase). */
const everySecond = (id: string, extra: Record<string, unknown> = {}): FeedSpec => ({
  id,
  kind: 'interval',
  params: { seconds: 1, startDate: T0, trigger_payload: { job: id }, ...extra },
});

interface LogLine {
  msg: string;
  feedId?: string;
  reason?: string;
  deleteTrigger?: boolean | 'rules';
}

/**
 * The platform around alarm feeds: the kit's FeedHarness (real FeedHost, stored feed records,
 * statuses, fenced cursors) on an embedded backend, a FakeClock the test drives, and a FaultyBus
 * to hold or fail a publish. Stopping a feed is stopping its host; starting it again is a new
 * host on the same store (a restart), as the platform would.
 */
class Rig {
  readonly events: Array<{ id: string; time: string; data?: unknown }> = [];
  host: FeedHost | undefined;
  private readonly records = new Map<string, FeedRecord>();

  private constructor(
    readonly harness: FeedHarness,
    readonly clock: FakeClock,
    readonly bus: FaultyBus,
  ) {}

  static async at(time: number | string, shared?: { bus: FaultyBus; clock: FakeClock }, backoff = { initialMs: 100, jitter: 0 }): Promise<Rig> {
    const backend: EmbeddedBackend = await openEmbeddedBackend({ log: silentLogger() });
    const bus = shared?.bus ?? new FaultyBus(backend.bus);
    const clock = shared?.clock ?? new FakeClock(time);
    const harness = await openFeedHarness({
      providers: [alarmsProvider],
      backend: { bus, store: backend.store },
      hostOptions: { clock, statusFlushMs: 5, backoff },
    });
    const rig = new Rig(harness, clock, bus);
    rigs.push({ rig, backend });
    if (!shared) {
      const { events } = await harness.collectEvents<unknown>({ unique: true });
      rig.collected = events as Rig['events'];
    }
    return rig;
  }

  private collected: Rig['events'] | undefined;

  /** Trigger events on the bus, in delivery order, once each (the bus keeps one per id). */
  get delivered(): Rig['events'] {
    return this.collected ?? [];
  }

  /** Stores the feeds (validated as the API does), starts a host if none runs, and waits until it has started or completed them. */
  async start(...feeds: FeedSpec[]): Promise<void> {
    for (const feed of feeds) {
      const patch = { id: feed.id, kind: feed.kind, generation: feed.generation ?? 1 };
      const record = feed.asIs
        ? await this.harness.putRecord({ namespace: 'guest', trigger: 'events', provider: 'alarms', params: feed.params, desired: 'active', createdAt: this.clock.now(), updatedAt: this.clock.now(), ...patch })
        : await this.harness.putFeed(feed.params, patch);
      this.records.set(feed.id, record);
    }
    this.host ??= await this.harness.startHost();
    const hostId = this.host.hostId;
    for (const feed of feeds) {
      const generation = feed.generation ?? 1;
      await eventually(async () => {
        const record = (await this.harness.repo.feeds.get(feed.id))?.value;
        if (!record || record.desired === 'deleted') return true;
        const status = await this.harness.statusOf(feed.id);
        return status?.host === hostId && status.generation === generation && status.status !== 'paused';
      }, `feed ${feed.id} started`);
    }
  }

  /** Stops the host: its feeds stop, their records and cursors stay. */
  async stop(): Promise<void> {
    const host = this.host;
    this.host = undefined;
    if (host) await this.harness.stopHost(host);
  }

  async cursorOf(feedId: string): Promise<AlarmCursor | undefined> {
    return cursorValue((await this.harness.repo.cursors.get(feedId))?.value) as AlarmCursor | undefined;
  }

  /** Scheduled times of the delivered events, as ISO strings. */
  times(): string[] {
    return this.delivered.map((e) => e.time);
  }

  /** Publishes of trigger events the bus was asked for (stored, absorbed as duplicates, failed or held). */
  get publishes(): number {
    return this.bus.publishes.length;
  }

  private lines(msg: string): LogLine[] {
    return this.harness.logLines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as LogLine)
      .filter((l) => l.msg === msg);
  }

  /** What the feeds reported with `ctx.complete`, as the host logged it. */
  get completions(): Array<{ feedId: string; reason: string; options: { deleteTrigger?: boolean | 'rules' } }> {
    return this.lines('feed completed').map((l) => ({ feedId: l.feedId as string, reason: l.reason as string, options: l.deleteTrigger ? { deleteTrigger: l.deleteTrigger } : {} }));
  }

  /** What the feeds reported with `ctx.fail`: `failing` (retryable, retried by the host) or `disabled`. */
  get failures(): Array<{ feedId: string; reason: string; retryable: boolean }> {
    return [...this.lines('feed failing').map((l) => ({ feedId: l.feedId as string, reason: l.reason as string, retryable: true })), ...this.lines('feed disabled').map((l) => ({ feedId: l.feedId as string, reason: l.reason as string, retryable: false }))];
  }

  /** Events arrive off the bus asynchronously: wait for `count`, then check no more came. */
  async delivery(count: number): Promise<void> {
    await eventually(() => this.bus.pending === 0 && this.delivered.length >= count, `${count} events delivered`);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

const rigs: Array<{ rig: Rig; backend: EmbeddedBackend }> = [];

afterEach(async () => {
  for (const { rig, backend } of rigs.splice(0).reverse()) {
    await rig.harness.close();
    await backend.close();
  }
});

const isoOf = (time: number) => new Date(time).toISOString();

const rigAt = (time: number | string) => Rig.at(time);

describe('alarms provider: firing', () => {
  it('fires each slot with an id derived from feed and scheduled time, the payload as data', async () => {
    const host = await rigAt(T0 + 500);
    await host.start(everySecond('f1'));
    await host.clock.advance(3 * SECOND);
    await host.delivery(3);
    expect(host.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000), isoOf(T0 + 3000)]);
    expect(host.delivered[0]).toMatchObject({ id: 'f1@2024-01-01T00:00:01.000Z', data: { job: 'f1' } });
    expect(alarmEventId('f1', T0 + 1000)).toBe('f1@2024-01-01T00:00:01.000Z');
    expect(await host.cursorOf('f1')).toMatchObject({ lastFireAt: T0 + 3000, fires: 3 });
    await host.stop();
  });

  it('stores the last fire time only once the fire is durable', async () => {
    const host = await rigAt(T0 + 500);
    const held = host.bus.hangNextPublish();
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    await held.caught;
    expect(host.publishes).toBe(1);
    expect(host.bus.publishes[0]?.outcome).toBe('pending');
    expect(host.delivered).toHaveLength(0);
    expect((await host.cursorOf('f1'))?.lastFireAt).toBeUndefined();
    held.release();
    await host.delivery(1);
    expect(host.delivered).toHaveLength(1);
    await eventually(async () => (await host.cursorOf('f1'))?.fires === 1, 'the fire recorded');
    expect(await host.cursorOf('f1')).toMatchObject({ lastFireAt: T0 + 1000, fires: 1 });
    await host.stop();
  });

  it('uses one clock timer for many feeds of a host', async () => {
    const host = await rigAt(T0 + 500);
    await host.start(...Array.from({ length: 500 }, (_, i) => ({ id: `f${i}`, kind: 'interval', params: { seconds: 10 } })));
    expect(host.clock.pendingTimers).toBe(1);
    await host.clock.advance(10 * SECOND);
    await host.delivery(500);
    expect(host.delivered).toHaveLength(500);
    expect(host.clock.pendingTimers).toBe(1);
    await host.stop();
    expect(host.clock.pendingTimers).toBe(0);
  });

  it('spreads interval feeds without startDate over the interval, at stable slots', async () => {
    const host = await rigAt(T0);
    await host.start(...Array.from({ length: 100 }, (_, i) => ({ id: `f${i}`, kind: 'interval', params: { seconds: 10 } })));
    await host.clock.advance(10 * SECOND);
    await host.delivery(100);
    const offsets = new Set(host.delivered.map((e) => Math.floor((Date.parse(e.time) - T0) / SECOND)));
    expect(offsets.size).toBeGreaterThan(5);
    await host.stop();
  });

  it('fires a cron alarm in its time zone', async () => {
    const host = await rigAt('2024-07-01T00:00:00Z');
    await host.start({ id: 'c1', kind: 'alarm', params: { cron: '0 9 * * *', timezone: 'Europe/Paris' } });
    await host.clock.advanceTo('2024-07-03T00:00:00Z');
    await host.delivery(2);
    expect(host.times()).toEqual(['2024-07-01T07:00:00.000Z', '2024-07-02T07:00:00.000Z']);
    await host.stop();
  });

  it('fires once at the first instant after a DST gap, and once in a repeated hour', async () => {
    const spring = await rigAt('2024-03-09T12:00:00Z');
    await spring.start({ id: 'gap', kind: 'alarm', params: { cron: '30 2 * * *', timezone: 'America/New_York' } });
    await spring.clock.advanceTo('2024-03-11T12:00:00Z');
    await spring.delivery(2);
    expect(spring.times()).toEqual(['2024-03-10T07:00:00.000Z', '2024-03-11T06:30:00.000Z']);
    await spring.stop();

    const fall = await rigAt('2024-11-02T12:00:00Z');
    await fall.start({ id: 'repeat', kind: 'alarm', params: { cron: '30 1 * * *', timezone: 'America/New_York' } });
    await fall.clock.advanceTo('2024-11-04T12:00:00Z');
    await fall.delivery(2);
    expect(fall.times()).toEqual(['2024-11-03T05:30:00.000Z', '2024-11-04T06:30:00.000Z']);
    await fall.stop();
  });
});

describe('alarms provider: stop and restart', () => {
  it('never fires after stop, and stops quietly when the fire in flight is refused', async () => {
    const host = await rigAt(T0 + 500);
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    await host.stop();
    await host.clock.advance(10 * SECOND);
    await host.delivery(1);
    expect(host.delivered).toHaveLength(1);
    expect(host.failures).toEqual([]);
    expect(host.clock.pendingTimers).toBe(0);
  });

  it('waits for a fire in flight on stop and records it, so a restart does not repeat it', async () => {
    const host = await rigAt(T0 + 500);
    const held = host.bus.hangNextPublish();
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    await held.caught;
    const stopping = host.stop();
    held.release();
    await stopping;
    expect(await host.cursorOf('f1')).toMatchObject({ lastFireAt: T0 + 1000, fires: 1 });
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    await host.delivery(2);
    expect(host.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000)]);
    expect(host.publishes).toBe(2);
    await host.stop();
  });

  it('starts afresh on the first start: no catch-up, even with a startDate long past', async () => {
    const host = await rigAt(T0 + 3_600_000 + 500);
    await host.start(everySecond('f1', { catchUp: 'all' }));
    await host.clock.advance(SECOND);
    await host.delivery(1);
    expect(host.times()).toEqual([isoOf(T0 + 3_601_000)]);
    await host.stop();
  });

  async function downtime(policy: Record<string, unknown>, expected: number): Promise<string[]> {
    const host = await rigAt(T0 + 500);
    await host.start(everySecond('f1', policy));
    await host.clock.advance(2 * SECOND); // fires 1 s and 2 s
    await host.stop();
    await host.clock.advance(10 * SECOND); // down over the slots 3 s … 12 s (now 12.5 s)
    await host.start(everySecond('f1', policy));
    await host.clock.advance(SECOND); // catch-up, then the 13 s slot
    await host.stop();
    await host.delivery(expected);
    return host.times().map((t) => `${(Date.parse(t) - T0) / SECOND}s`);
  }

  it("catchUp 'none' skips what was missed while down", async () => {
    expect(await downtime({ catchUp: 'none' }, 3)).toEqual(['1s', '2s', '13s']);
  });

  it("catchUp 'last' (the default) fires the most recent missed slot, then goes on", async () => {
    expect(await downtime({}, 4)).toEqual(['1s', '2s', '12s', '13s']);
  });

  it("catchUp 'all' fires every missed slot, oldest first", async () => {
    expect(await downtime({ catchUp: 'all' }, 13)).toEqual(['1s', '2s', '3s', '4s', '5s', '6s', '7s', '8s', '9s', '10s', '11s', '12s', '13s']);
  });

  it("catchUp 'all' makes up at most maxCatchUp, the most recent", async () => {
    expect(await downtime({ catchUp: 'all', maxCatchUp: 3 }, 6)).toEqual(['1s', '2s', '10s', '11s', '12s', '13s']);
  });

  it('does not make up a pause: a resumed feed (new generation) fires from now, whatever the policy', async () => {
    const host = await rigAt(T0 + 500);
    await host.start(everySecond('f1', { catchUp: 'all' }));
    await host.clock.advance(2 * SECOND);
    await host.stop(); // paused: the feed stops, and comes back below as a new generation
    await host.clock.advance(10 * SECOND);
    await host.start({ ...everySecond('f1', { catchUp: 'all' }), generation: 2 }); // resumed at 12.5 s
    await host.clock.advance(SECOND);
    await host.delivery(3);
    expect(host.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000), isoOf(T0 + 13_000)]);
    expect(await host.cursorOf('f1')).toMatchObject({ generation: 2, fires: 3 });
    await host.stop();
  });

  it('counts maxTriggers across restarts, then reports itself done and fires no more', async () => {
    const host = await rigAt(T0 + 500);
    const feed = everySecond('f1', { maxTriggers: 3 });
    await host.start(feed);
    await host.clock.advance(2 * SECOND);
    await host.stop();
    await host.start(feed);
    await host.clock.advance(5 * SECOND);
    await host.delivery(3);
    expect(host.delivered).toHaveLength(3);
    expect(host.failures).toEqual([]);
    await eventually(() => host.completions.length === 1, 'the feed completed');
    expect(host.completions[0]).toMatchObject({ feedId: 'f1', options: {} });
    expect(host.completions[0]?.reason).toContain('maxTriggers (3) reached');
    expect(await host.harness.waitForStatus('f1', 'disabled')).toMatchObject({ reason: expect.stringContaining('maxTriggers (3) reached') });
    expect((await host.cursorOf('f1'))?.done?.reason).toContain('maxTriggers (3) reached');
    // Started again (a host that lost the status): done at once, nothing fired.
    await host.stop();
    await host.harness.repo.statuses.delete('f1');
    await host.start(feed);
    await eventually(() => host.completions.length === 2, 'the feed completed again');
    expect(host.completions[1]?.reason).toContain('done');
    await host.delivery(3);
    expect(host.delivered).toHaveLength(3);
  });

  it('fires again after an update raises maxTriggers', async () => {
    const host = await rigAt(T0 + 500);
    await host.start(everySecond('f1', { maxTriggers: 1 }));
    await host.clock.advance(2 * SECOND);
    await host.delivery(1);
    expect(host.delivered).toHaveLength(1);
    await host.harness.waitForStatus('f1', 'disabled');
    await host.start({ ...everySecond('f1', { maxTriggers: 2 }), generation: 2 });
    await host.clock.advance(SECOND);
    await host.delivery(2);
    expect(host.delivered).toHaveLength(2);
    await eventually(async () => (await host.cursorOf('f1'))?.done !== undefined, 'done again');
    expect((await host.cursorOf('f1'))?.done).toBeDefined();
  });

  it('starts afresh when an update changes the schedule', async () => {
    const host = await rigAt(T0 + 500);
    await host.start(everySecond('f1'));
    await host.clock.advance(2 * SECOND);
    await host.stop();
    await host.clock.advance(60 * SECOND);
    await host.start({ id: 'f1', kind: 'interval', params: { seconds: 5, startDate: T0, catchUp: 'all' }, generation: 2 });
    await host.clock.advance(5 * SECOND);
    await host.delivery(3);
    expect(host.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000), isoOf(T0 + 65_000)]);
    expect((await host.cursorOf('f1'))?.fires).toBe(1);
    await host.stop();
  });

  it('reports a failed fire to the host and re-fires the same slot, same id, on restart', async () => {
    // The host retries the feed 800 ms after the failure: after the 1.5 s the clock is first advanced to.
    const host = await Rig.at(T0 + 500, undefined, { initialMs: 800, jitter: 0 });
    host.bus.failNextPublish(1);
    await host.start(everySecond('f1'));
    await host.clock.advance(SECOND);
    await host.harness.waitForStatus('f1', 'failing');
    expect(host.failures).toHaveLength(1);
    expect(host.failures[0]?.retryable).toBe(true);
    expect((await host.cursorOf('f1'))?.lastFireAt).toBeUndefined();
    // The host restarts the feed after its backoff (at 1.8 s).
    await host.clock.advance(300);
    await host.harness.waitForStatus('f1', 'active');
    await host.clock.advance(700);
    await host.delivery(2);
    expect(host.delivered.map((e) => e.id)).toEqual([alarmEventId('f1', T0 + 1000), alarmEventId('f1', T0 + 2000)]);
    await host.stop();
  });

  it('fires each slot once when two hosts run the same feed (ids de-duplicate on the bus)', async () => {
    // Two hosts on separate stores (so both own the feed) and one bus: a split brain.
    const a = await rigAt(T0 + 500);
    const b = await Rig.at(T0 + 500, { bus: a.bus, clock: a.clock });
    await a.start(everySecond('f1'));
    await b.start(everySecond('f1'));
    await a.clock.advance(3 * SECOND);
    await a.delivery(3);
    expect(a.publishes).toBe(6);
    expect(a.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000), isoOf(T0 + 3000)]);
    await a.stop();
    await b.stop();
  });
});

describe('alarms provider: once', () => {
  it('fires once at its date and reports itself done, passing deleteAfterFire on', async () => {
    const host = await rigAt(T0);
    await host.start({ id: 'o1', kind: 'once', params: { date: isoOf(T0 + 5000), deleteAfterFire: true, trigger_payload: '{"x":1}' }, asIs: true });
    await host.clock.advance(60 * SECOND);
    await host.delivery(1);
    expect(host.delivered).toHaveLength(1);
    expect(host.delivered[0]).toMatchObject({ time: isoOf(T0 + 5000), data: { x: 1 }, id: alarmEventId('o1', T0 + 5000) });
    await eventually(() => host.completions.length === 1, 'the feed completed');
    expect(host.completions).toEqual([
      { feedId: 'o1', reason: `the alarm is done: it fired once, at ${isoOf(T0 + 5000)}`, options: { deleteTrigger: true } },
    ]);
    // deleteAfterFire reached the host: it deleted the feed, and with it the cursor that said so.
    await eventually(async () => !(await host.harness.repo.feeds.get('o1')), 'the feed deleted');
    expect(await host.cursorOf('o1')).toBeUndefined();
  });

  it('fires late when the host was down at its date, or not at all under catchUp none', async () => {
    const host = await rigAt(T0 + 60_000);
    await host.start({ id: 'late', kind: 'once', params: { date: T0 + 5000 }, asIs: true });
    await host.start({ id: 'skip', kind: 'once', params: { date: T0 + 5000, catchUp: 'none' }, asIs: true });
    await eventually(() => host.completions.length >= 1, 'a feed completed');
    expect(host.completions.map((c) => c.feedId)).toEqual(['skip']);
    expect(host.completions[0]?.reason).toContain("its date passed while the feed was not running, and catchUp is 'none'");
    await host.clock.advance(SECOND);
    await host.delivery(1);
    expect(host.delivered.map((e) => e.id)).toEqual([alarmEventId('late', T0 + 5000)]);
  });
});

describe('alarms provider: stopDate', () => {
  it('fires up to stopDate, then reports itself done', async () => {
    const host = await rigAt(T0 + 500);
    await host.start({ ...everySecond('f1', { stopDate: T0 + 3000 }), asIs: true });
    await host.clock.advance(10 * SECOND);
    await host.delivery(3);
    expect(host.times()).toEqual([isoOf(T0 + 1000), isoOf(T0 + 2000), isoOf(T0 + 3000)]);
    await eventually(() => host.completions.length === 1, 'the feed completed');
    expect(host.completions[0]?.reason).toContain('no fire time is left before stopDate');
  });
});
