import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { defineProvider, SDK_VERSION, z } from '@kindling/sdk';
import { silentLogger, type FeedRecord } from '@kindling/core';
import { eventually, openFeedHarness, type FeedHarness } from '@kindling/provider-testkit';

/**
 * Ten thousand feeds through one host on the embedded backend: each fires once when it starts;
 * at the end every status says active with one fire, and once they are all deleted no record,
 * status or cursor is left behind.
 */
const FEEDS = 10_000;

const firesOnce = defineProvider({
  name: 'once',
  sdkVersion: SDK_VERSION,
  kinds: {
    fire: {
      description: 'fires one event when it starts, then waits',
      params: z.strictObject({}),
      async start(_feed, ctx) {
        await ctx.fire({ hello: true }, { id: 'first' });
        await ctx.cursor.set({ fired: 1 });
        return { stop() {} };
      },
    },
  },
});

jest.setTimeout(180_000);

describe('a host with 10,000 feeds', () => {
  let harness: FeedHarness;

  beforeEach(async () => {
    // Silent: the harness's default logger keeps every debug line in memory.
    harness = await openFeedHarness({ providers: [firesOnce], log: silentLogger(), feedDefaults: { trigger: 'many' } });
  });

  afterEach(async () => {
    await harness.close();
  });

  it('runs them all, counts one fire each, and removes every trace of them once deleted', async () => {
    const host = await harness.startHost({ hostId: 'only' });
    const template = await harness.feedRecord({});
    const records: FeedRecord[] = Array.from({ length: FEEDS }, (_, i) => ({ ...template, id: `feed-${i}`, trigger: `t${i}` }));
    for (const record of records) await harness.putRecord(record);
    await eventually(() => host.runningFeeds().length === FEEDS, 'every feed running', 120_000);
    await host.flushStatuses();
    await eventually(async () => {
      const statuses = await harness.repo.statuses.list();
      return statuses.length === FEEDS && statuses.every((s) => s.value.status === 'active' && s.value.fires === 1 && s.value.host === 'only');
    }, 'every status active with one fire', 60_000);

    for (const record of records) await harness.putRecord({ ...record, desired: 'deleted', generation: 2 });
    await eventually(async () => (await harness.repo.feeds.keys()).length === 0, 'every feed record removed', 120_000);
    expect(host.runningFeeds()).toEqual([]);
    await host.flushStatuses();
    expect(await harness.repo.statuses.keys()).toEqual([]);
    expect(await harness.repo.cursors.keys()).toEqual([]);
  });
});
