import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomId, silentLogger, type EventBus, type KeyValueStore } from '@kindling/core';
import { defineProvider, SDK_VERSION, z, type CursorStore } from '@kindling/sdk';
import { FEED_PARTITIONS, partitionOf, type FeedHost } from '@kindling/host';
import { openEmbeddedBackend } from '@kindling/embedded';
import { connectNatsBackend } from '@kindling/nats';
import { eventually, openFeedHarness, type FeedHarness } from '@kindling/provider-testkit';
import { describeWithNats, NATS_URL } from '@kindling/test-support';

/**
 * Feed ownership by partition between several provider hosts on one store: the partitions are
 * split, a host that leaves or dies loses its partitions to the others within the lease TTL, a
 * cursor write from a host that lost its partition is refused, and no feed ever runs on two
 * hosts at once. On the embedded backend (hosts sharing one process's store) and on NATS (a
 * scope of its own).
 */
interface Probe {
  /** Hosts running each feed now, counted by start/stop. */
  running: Map<string, number>;
  /** The most hosts that ever ran one feed at once. */
  maxConcurrent: number;
  /** The cursor store of each feed's latest start. */
  cursors: Map<string, CursorStore>;
}

function probeProvider(probe: Probe) {
  return defineProvider({
    name: 'probe',
    sdkVersion: SDK_VERSION,
    kinds: {
      idle: {
        description: 'holds nothing; counts the hosts it runs on',
        params: z.strictObject({}),
        async start(feed, ctx) {
          const now = (probe.running.get(feed.id) ?? 0) + 1;
          probe.running.set(feed.id, now);
          probe.maxConcurrent = Math.max(probe.maxConcurrent, now);
          probe.cursors.set(feed.id, ctx.cursor);
          await ctx.cursor.set({ startedAt: Date.now() });
          return {
            stop() {
              probe.running.set(feed.id, (probe.running.get(feed.id) ?? 1) - 1);
            },
          };
        },
      },
    },
  });
}

const TTL_MS = 1500;
const RENEW_MS = 300;
/** A dead host's partitions are free once its leases expire; the others see that within one renewal. */
const TAKEOVER_BOUND_MS = TTL_MS + 2 * RENEW_MS + 2000;

interface Backend {
  name: string;
  describe: typeof describe;
  open(): Promise<{ bus: EventBus; store: KeyValueStore; close(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'embedded backend',
    describe,
    open: () => openEmbeddedBackend({ log: silentLogger() }),
  },
  {
    name: 'NATS JetStream',
    describe: await describeWithNats(),
    async open() {
      const backend = await connectNatsBackend({ servers: NATS_URL, scope: `partitions-${randomId(4)}`, log: silentLogger() });
      return {
        bus: backend.bus,
        store: backend.store,
        async close() {
          await backend.destroyScope();
          await backend.close();
        },
      };
    },
  },
];

for (const backendKind of backends) {
  backendKind.describe(`feed partitions between hosts, ${backendKind.name}`, () => {
    let backend: Awaited<ReturnType<Backend['open']>>;
    let harness: FeedHarness;
    let probe: Probe;

    const startHost = (hostId: string) => harness.startHost({ hostId, leaseTtlMs: TTL_MS, renewEveryMs: RENEW_MS });
    const owned = (hosts: FeedHost[]) => hosts.map((h) => h.ownedPartitions());
    const putFeeds = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => harness.putFeed({}, { trigger: `t${i}` })));
    const allRunningOnce = (feedIds: string[], hosts: FeedHost[]) => {
      const running = hosts.flatMap((h) => h.runningFeeds());
      return running.length === feedIds.length && new Set(running).size === feedIds.length;
    };

    beforeEach(async () => {
      probe = { running: new Map(), maxConcurrent: 0, cursors: new Map() };
      backend = await backendKind.open();
      harness = await openFeedHarness({ providers: [probeProvider(probe)], backend, feedDefaults: { trigger: 'probe' } });
    });

    afterEach(async () => {
      await harness.close();
      await backend.close();
    });

    it('splits the partitions between two, then three hosts; each feed runs on the owner of its partition', async () => {
      const feeds = await putFeeds(40);
      const feedIds = feeds.map((f) => f.id);
      const first = await startHost('h1');
      await eventually(() => first.ownedPartitions().length === FEED_PARTITIONS && allRunningOnce(feedIds, [first]), 'one host owning everything');

      const second = await startHost('h2');
      await eventually(() => owned([first, second]).every((p) => p.length === FEED_PARTITIONS / 2), 'two hosts with half each', 15_000);
      const third = await startHost('h3');
      const hosts = [first, second, third];
      await eventually(() => {
        const counts = owned(hosts).map((p) => p.length);
        return counts.reduce((a, b) => a + b, 0) === FEED_PARTITIONS && counts.every((n) => n >= 20 && n <= 22);
      }, 'three hosts with a fair share each', 15_000);
      await eventually(() => allRunningOnce(feedIds, hosts), 'every feed running once');

      const partitions = owned(hosts).flat();
      expect(new Set(partitions).size).toBe(FEED_PARTITIONS);
      for (const host of hosts) {
        for (const feedId of host.runningFeeds()) expect(host.ownedPartitions()).toContain(partitionOf(feedId));
      }
      expect(probe.maxConcurrent).toBe(1);
    });

    it('gives the partitions of a host that stops, or stops renewing, to the others within the lease TTL', async () => {
      const feeds = await putFeeds(30);
      const feedIds = feeds.map((f) => f.id);
      const [a, b, c] = [await startHost('a'), await startHost('b'), await startHost('c')];
      await eventually(() => owned([a, b, c]).every((p) => p.length >= 20) && allRunningOnce(feedIds, [a, b, c]), 'three hosts sharing', 15_000);

      await harness.stopHost(a);
      await eventually(() => allRunningOnce(feedIds, [b, c]) && owned([b, c]).flat().length === FEED_PARTITIONS, 'a stopped host’s partitions taken', TAKEOVER_BOUND_MS);

      // A crash: the host's timers stop and its leases are never released, only left to expire.
      const crashed = b.runningFeeds();
      expect(crashed.length).toBeGreaterThan(0);
      const crashedAt = Date.now();
      simulateCrash(b);
      // Its leases expire one renewal apart at most, so the last partitions (maybe without feeds)
      // can come a period after the feeds: both within the bound.
      await eventually(
        () => crashed.every((id) => c.runningFeeds().includes(id)) && c.ownedPartitions().length === FEED_PARTITIONS,
        'a dead host’s feeds and partitions taken over',
        TAKEOVER_BOUND_MS + 2000,
      );
      expect(Date.now() - crashedAt).toBeLessThan(TAKEOVER_BOUND_MS);
    });

    it('refuses a cursor write from a host that lost the partition, and stops the feed there', async () => {
      const [feed] = await putFeeds(1);
      const host = await startHost('old-owner');
      await eventually(() => host.runningFeeds().includes(feed!.id), 'feed running');
      const cursor = probe.cursors.get(feed!.id)!;
      await cursor.set({ position: 1 });

      // Another host takes the partition (its lease expired, say) and moves the cursor on.
      const partition = partitionOf(feed!.id);
      const fence = await harness.repo.leases.put(`partition.${partition}`, { host: 'new-owner', expiresAt: Date.now() + 60_000 });
      await harness.repo.cursors.put(feed!.id, { fence, cursor: { position: 2 } });

      await expect(cursor.set({ position: 3 })).rejects.toMatchObject({ name: 'FeedStoppedError' });
      expect((await harness.repo.cursors.get(feed!.id))?.value).toEqual({ fence, cursor: { position: 2 } });
      await eventually(() => !host.runningFeeds().includes(feed!.id), 'the feed stopped on the host that lost it');
    });
  });
}

/** Stops a host's timers without letting it release anything: its leases and heartbeat just expire. */
function simulateCrash(host: FeedHost): void {
  const internals = host as unknown as { ownership: { stopped: boolean; timer?: NodeJS.Timeout } };
  internals.ownership.stopped = true;
  clearInterval(internals.ownership.timer);
}
