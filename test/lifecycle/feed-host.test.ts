import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Buckets, type FeedRecord, type KeyValueStore, type KvWatch, silentLogger, z } from '@kindling/core';
import { defineProvider, FeedError, SDK_VERSION } from '@kindling/sdk';
import type { FeedRepository } from '@kindling/host';
import { openEmbeddedBackend } from '@kindling/embedded';
import { eventually, openFeedHarness, type FeedHarness } from '@kindling/provider-testkit';

/**
 * The feed lifecycle as a provider host runs it, against the embedded backend: reconcile on
 * start and on change, status on failure, backoff, disable, teardown on delete, leases between
 * hosts, hooks. The test provider records what the host asks of it.
 */
interface Calls {
  starts: string[];
  stops: string[];
  teardowns: string[];
}

function testProvider(calls: Calls) {
  return defineProvider({
    name: 'test',
    sdkVersion: SDK_VERSION,
    kinds: {
      ticker: {
        description: 'fires every few ms while running; fails on demand',
        params: z.strictObject({
          everyMs: z.number().int().positive().default(20),
          failTimes: z.number().int().min(0).default(0),
          fatal: z.boolean().default(false),
          password: z.string().optional(),
        }),
        secrets: ['password'],
        async start(feed, ctx) {
          calls.starts.push(`${feed.id}@${feed.generation}`);
          // Providers do log what they hold; the host must keep declared secrets out of the lines.
          ctx.log.info({ params: feed.params }, `connecting with ${feed.params.password ?? 'no password'}`);
          const previousStarts = calls.starts.filter((s) => s.startsWith(`${feed.id}@`)).length;
          if (previousStarts <= feed.params.failTimes) {
            throw new FeedError(`source refused us (password ${feed.params.password ?? 'none'})`, { retryable: !feed.params.fatal });
          }
          let n = 0;
          const timer = setInterval(() => {
            n++;
            ctx.fire({ n }, { id: `${feed.generation}-${n}` }).catch(() => undefined);
          }, feed.params.everyMs);
          return {
            stop() {
              clearInterval(timer);
              calls.stops.push(feed.id);
            },
            async hook(request) {
              const receipt = await ctx.fire({ body: request.body.toString('utf8') }, { id: request.headers['x-delivery'] ?? 'none' });
              return { status: 202, body: { fired: !receipt.duplicate } };
            },
          };
        },
        async teardown(feed) {
          calls.teardowns.push(feed.id);
        },
      },
    },
  });
}

/**
 * The embedded store, except that the watches of the feeds bucket can be ended on demand: what a
 * host meets when the store's connection drops its watch (the NATS client ends a watch whose
 * consumer went away). Ending a watch cannot be provoked on the embedded store itself.
 */
function endableFeedWatches(store: KeyValueStore): KeyValueStore & { endWatches(): number } {
  const open = new Set<KvWatch>();
  return {
    endWatches() {
      const ended = open.size;
      for (const watch of open) watch.stop();
      open.clear();
      return ended;
    },
    async bucket(name) {
      const bucket = await store.bucket(name);
      if (name !== Buckets.feeds) return bucket;
      return {
        name: bucket.name,
        get: (key) => bucket.get(key),
        put: (key, value, options) => bucket.put(key, value, options),
        delete: (key, options) => bucket.delete(key, options),
        keys: (prefix) => bucket.keys(prefix),
        watch: async (options) => {
          const watch = await bucket.watch(options);
          open.add(watch);
          return watch;
        },
      };
    },
    close: () => store.close(),
  };
}

describe('FeedHost', () => {
  let harness: FeedHarness;
  let repo: FeedRepository;
  let calls: Calls;
  let logLines: string[];

  const newHost = (hostId: string, leaseTtlMs = 15_000) => harness.startHost({ hostId, leaseTtlMs });
  const putFeed = (params: Record<string, unknown>, patch: Partial<FeedRecord> = {}) => harness.putFeed(params, patch);
  const statusOf = (feedId: string) => harness.statusOf(feedId);
  const collectEvents = () => harness.collectEvents();

  beforeEach(async () => {
    calls = { starts: [], stops: [], teardowns: [] };
    harness = await openFeedHarness({
      providers: [testProvider(calls)],
      hostOptions: { maxFailures: 3, backoff: { initialMs: 20, maxMs: 50, jitter: 0 } },
      feedDefaults: { trigger: 'ticks' },
    });
    repo = harness.repo;
    logLines = harness.logLines;
  });

  afterEach(async () => {
    await harness.close();
  });

  it('starts a stored feed, which fires durable events to its trigger subject', async () => {
    const { events, consumption } = await collectEvents();
    const feed = await putFeed({ everyMs: 10 });
    await newHost('h1');
    await eventually(async () => events.length >= 3, 'three events');
    await consumption.stop();
    expect(events[0]).toMatchObject({ specversion: '1.0', kindlingnamespace: 'guest', kindlingtrigger: 'ticks', type: 'dev.kindling.test.ticker' });
    expect(await statusOf(feed.id)).toMatchObject({ status: 'active', generation: 1, host: 'h1' });
  });

  it('stops on pause, restarts on unpause, and tears down and removes the record on delete', async () => {
    const feed = await putFeed({ everyMs: 1000 });
    const host = await newHost('h1');
    await eventually(async () => host.runningFeeds().includes(feed.id), 'feed running');

    await repo.feeds.put(feed.id, { ...feed, desired: 'paused', generation: 2 });
    await eventually(async () => (await statusOf(feed.id))?.status === 'paused', 'paused status');
    expect(host.runningFeeds()).toEqual([]);
    expect(calls.stops).toEqual([feed.id]);

    await repo.feeds.put(feed.id, { ...feed, desired: 'active', generation: 3 });
    await eventually(async () => host.runningFeeds().includes(feed.id), 'feed running again');
    expect(calls.starts).toEqual([`${feed.id}@1`, `${feed.id}@3`]);

    await repo.feeds.put(feed.id, { ...feed, desired: 'deleted', generation: 4 });
    await eventually(async () => (await repo.feeds.get(feed.id)) === null, 'feed record removed');
    expect(calls.teardowns).toEqual([feed.id]);
    expect(await statusOf(feed.id)).toBeUndefined();
    expect(host.runningFeeds()).toEqual([]);
  });

  it('retries a failing feed with backoff and keeps the reason, with secrets scrubbed', async () => {
    const feed = await putFeed({ failTimes: 1, password: 's3cr3t-value' });
    // A backoff long enough for the failing status to be seen before the retry.
    await harness.startHost({ hostId: 'h1', backoff: { initialMs: 500, maxMs: 500, jitter: 0 } });
    await eventually(async () => (await statusOf(feed.id))?.status === 'failing' && calls.starts.length === 1, 'failing status');
    const failing = await statusOf(feed.id);
    expect(failing?.reason).toContain('source refused us');
    expect(failing?.reason).not.toContain('s3cr3t-value');
    await eventually(async () => (await statusOf(feed.id))?.status === 'active', 'recovered');
    expect(calls.starts).toHaveLength(2);
    expect(logLines.join('')).toContain('connecting with [redacted]');
    expect(logLines.join('')).not.toContain('s3cr3t-value');
  });

  it('disables a feed after an unrecoverable error, and after too many failures', async () => {
    const fatal = await putFeed({ failTimes: 1, fatal: true });
    const flaky = await putFeed({ failTimes: 10 }, { trigger: 'other' });
    await newHost('h1');
    await eventually(async () => (await statusOf(fatal.id))?.status === 'disabled', 'fatal disabled');
    expect((await statusOf(fatal.id))?.reason).toContain('source refused us');
    await eventually(async () => (await statusOf(flaky.id))?.status === 'disabled', 'flaky disabled');
    expect((await statusOf(flaky.id))?.reason).toMatch(/gave up after 3 consecutive failures/);
    expect(calls.starts.filter((s) => s.startsWith(flaky.id))).toHaveLength(3);
  });

  it('routes hooks to the running feed, de-duplicates by id, and refuses unknown feeds', async () => {
    const feed = await putFeed({ everyMs: 60_000 });
    const host = await newHost('h1');
    await eventually(async () => host.runningFeeds().includes(feed.id), 'feed running');
    const request = { headers: { 'x-delivery': 'd-1' }, body: Buffer.from('hello'), query: {} };
    expect(await host.dispatchHook('test', feed.id, request)).toEqual({ status: 202, body: { fired: true } });
    expect(await host.dispatchHook('test', feed.id, request)).toEqual({ status: 202, body: { fired: false } });
    await expect(host.dispatchHook('test', 'nope', request)).rejects.toMatchObject({ code: 'KND_NOT_FOUND' });
    await expect(host.dispatchHook('other', feed.id, request)).rejects.toMatchObject({ code: 'KND_NOT_FOUND' });

    await repo.feeds.put(feed.id, { ...feed, desired: 'paused', generation: 2 });
    await eventually(async () => (await statusOf(feed.id))?.status === 'paused', 'paused');
    expect(await host.dispatchHook('test', feed.id, request)).toMatchObject({ status: 200, body: { fired: false } });
  });

  it('runs each feed on one host only, and fails over when that host stops', async () => {
    const feeds = await Promise.all([1, 2, 3, 4].map((i) => putFeed({ everyMs: 60_000 }, { trigger: `t${i}` })));
    const first = await newHost('h1', 600);
    const second = await newHost('h2', 600);
    await eventually(async () => first.runningFeeds().length + second.runningFeeds().length === 4, 'all feeds running');
    const overlap = first.runningFeeds().filter((id) => second.runningFeeds().includes(id));
    expect(overlap).toEqual([]);

    await first.stop();
    await eventually(async () => second.runningFeeds().length === 4, 'second host runs every feed', 10_000);
    expect(new Set(second.runningFeeds())).toEqual(new Set(feeds.map((f) => f.id)));
  });

  it('reopens its watch of the feeds when it ends, so feeds created afterwards still start', async () => {
    const backend = await openEmbeddedBackend({ log: silentLogger() });
    const store = endableFeedWatches(backend.store);
    const own = await openFeedHarness({ providers: [testProvider(calls)], backend: { bus: backend.bus, store }, feedDefaults: { trigger: 'ticks' } });
    try {
      const host = await own.startHost({ hostId: 'h1' });
      const before = await own.putFeed({ everyMs: 60_000 });
      await eventually(async () => host.runningFeeds().includes(before.id), 'the first feed running');
      expect(store.endWatches()).toBeGreaterThan(0);

      const after = await own.putFeed({ everyMs: 60_000 }, { trigger: 'later' });
      await eventually(async () => host.runningFeeds().includes(after.id), 'a feed created after the watch ended running', 10_000);
      await own.putRecord({ ...before, desired: 'paused', generation: 2 });
      await eventually(async () => !host.runningFeeds().includes(before.id), 'a pause seen through the reopened watch');
    } finally {
      await own.close();
      await backend.close();
    }
  });
});
