import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  randomId,
  silentLogger,
  Streams,
  type CloudEvent,
  type Consumption,
  type EventBus,
  type FeedRecord,
  type KeyValueStore,
} from '@kindling/core';
import { cursorValue, type FeedHost } from '@kindling/host';
import { alarmEventId, alarmsProvider, MISFIRE_GRACE_MS, type AlarmCursor } from '@kindling/alarms';
import { openEmbeddedBackend } from '@kindling/embedded';
import { connectNatsBackend } from '@kindling/nats';
import { eventually, openFeedHarness, type FeedHarness } from '@kindling/provider-testkit';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithNats, NATS_URL } from '@kindling/test-support';

/**
 * The alarms provider as the platform runs it: stored feed records, a real FeedHost on the real
 * clock, and a real backend (embedded, and NATS JetStream). An interval alarm every second must
 * reach the bus as trigger events; pause must stop it without making the pause up; a restart of
 * the whole host must resume from the stored cursor, every slot fired exactly once.
 */
interface Backend {
  bus: EventBus;
  store: KeyValueStore;
  streamInfo(stream: string): Promise<{ messages: number }>;
  close(): Promise<void>;
}

interface BackendFactory {
  /** Opens the backend on the same storage as every previous open of this factory. */
  open(): Promise<Backend>;
  /** Removes everything the opens stored. */
  destroy(): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alarmsOnFeedHost(factory: () => BackendFactory): void {
  let backends: BackendFactory;
  let backend: Backend;
  let harness: FeedHarness;
  let host: FeedHost;
  let consumption: Consumption | undefined;
  let events: CloudEvent[];

  /** The platform on the backend open now (a restart opens it again). */
  const openHarness = async () => {
    harness = await openFeedHarness({ providers: [alarmsProvider], backend, log: silentLogger(), feedDefaults: { kind: 'interval', trigger: 'every-second' } });
  };

  const startHost = async () => {
    host = await harness.startHost({ hostId: `alarms-${randomId(3)}` });
  };

  const collect = async () => {
    // A redelivery is not a second fire (`unique`): the stream count below checks fires.
    ({ events, consumption } = await harness.collectEvents({ durablePrefix: 'alarms-test', unique: true }));
  };

  const putFeed = (params: Record<string, unknown>): Promise<FeedRecord> => harness.putFeed(params, { id: `alarm-${randomId(4)}` });
  const update = (record: FeedRecord, patch: Partial<FeedRecord>): Promise<FeedRecord> => harness.putRecord({ ...record, ...patch, updatedAt: Date.now() });
  const statusOf = (feedId: string) => harness.statusOf(feedId);
  const cursorOf = async (feedId: string) => cursorValue((await harness.repo.cursors.get(feedId))?.value) as AlarmCursor | undefined;
  const scheduledTimes = () => events.map((e) => Date.parse(e.time)).sort((a, b) => a - b);

  /** Each event is the slot it claims: one second apart, id derived from feed and scheduled time. */
  const expectSlots = (feedId: string, times: number[]) => {
    for (const event of events) expect(event.id).toBe(alarmEventId(feedId, Date.parse(event.time)));
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBe(1000);
  };

  beforeEach(async () => {
    backends = factory();
    backend = await backends.open();
    await openHarness();
  });

  afterEach(async () => {
    await consumption?.stop();
    consumption = undefined;
    await host?.stop();
    await backend.close();
    await backends.destroy();
  });

  it('fires every second as trigger events on the bus; pause stops it, resume fires from now', async () => {
    await collect();
    await startHost();
    let feed = await putFeed({ seconds: 1, catchUp: 'all', trigger_payload: { job: 'report' } });
    await eventually(() => events.length >= 3, 'three fires');
    expect(events[0]).toMatchObject({ type: 'dev.kindling.alarms.interval', kindlingtrigger: 'every-second', data: { job: 'report' } });
    expectSlots(feed.id, scheduledTimes().slice(0, 3));
    expect(await statusOf(feed.id)).toMatchObject({ status: 'active' });

    feed = await update(feed, { desired: 'paused', generation: 2 });
    await eventually(async () => (await statusOf(feed.id))?.status === 'paused', 'paused');
    const last = (await cursorOf(feed.id))?.lastFireAt as number;
    await eventually(() => scheduledTimes().includes(last), 'the last fire before the pause delivered');
    const firedBeforePause = events.length;
    await pause(2500);
    expect(events).toHaveLength(firedBeforePause);

    const resumedAt = Date.now();
    feed = await update(feed, { desired: 'active', generation: 3 });
    await eventually(() => events.length >= firedBeforePause + 2, 'fires after resume');
    const after = scheduledTimes().slice(firedBeforePause);
    // catchUp 'all' makes up downtime, not a pause: nothing from the paused seconds.
    expect(after[0]).toBeGreaterThanOrEqual(resumedAt - MISFIRE_GRACE_MS);
    expectSlots(feed.id, after);
    expect((await backend.streamInfo(Streams.events.name)).messages).toBe(events.length);
  });

  it('resumes from the stored cursor after a restart: every slot fired exactly once, downtime made up', async () => {
    await startHost();
    const feed = await putFeed({ seconds: 1, catchUp: 'all' });
    await eventually(async () => ((await cursorOf(feed.id))?.fires ?? 0) >= 2, 'two fires');
    await host.stop();
    await backend.close();
    await pause(1800); // down over at least one slot

    backend = await backends.open();
    await openHarness();
    const before = (await cursorOf(feed.id)) as AlarmCursor;
    await startHost();
    await eventually(async () => ((await cursorOf(feed.id))?.fires ?? 0) >= before.fires + 3, 'fires after the restart');
    await host.stop();

    await collect();
    const fired = (await cursorOf(feed.id)) as AlarmCursor;
    await eventually(() => events.length >= fired.fires, `all ${fired.fires} fires read back`);
    const times = scheduledTimes();
    expect(times).toHaveLength(fired.fires);
    expectSlots(feed.id, times);
    expect(times).toContain((before.lastFireAt as number) + 1000);
    expect((await backend.streamInfo(Streams.events.name)).messages).toBe(fired.fires);
  });
}

describe('alarms provider on a FeedHost, embedded backend', () => {
  alarmsOnFeedHost(() => {
    let dir: string | undefined;
    return {
      async open() {
        dir ??= await mkdtemp(join(tmpdir(), 'kindling-alarms-'));
        return openEmbeddedBackend({ dataDir: dir, log: silentLogger() });
      },
      async destroy() {
        if (dir) await rm(dir, { recursive: true, force: true });
      },
    };
  });
});

const describeNats = await describeWithNats();

describeNats('alarms provider on a FeedHost, NATS JetStream', () => {
  alarmsOnFeedHost(() => {
    const scope = `alarms-${process.pid}-${randomId(3)}`;
    return {
      open: () => connectNatsBackend({ servers: NATS_URL, scope, log: silentLogger() }),
      async destroy() {
        const backend = await connectNatsBackend({ servers: NATS_URL, scope, log: silentLogger() });
        await backend.destroyScope();
        await backend.close();
      },
    };
  });
});
