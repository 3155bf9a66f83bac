import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomId } from '@kindling/core';
import { eventually } from './eventually.js';
import { openFeedHarness, type FeedHarness } from './feed-harness.js';
import { MemorySource } from './test-providers/memory-source.js';
import { correctPolling } from './test-providers/providers.js';

describe('eventually', () => {
  it('returns the first truthy value the probe gives', async () => {
    let calls = 0;
    await expect(eventually(() => (++calls >= 3 ? `after ${calls}` : 0), 'three calls', 1000, { intervalMs: 1 })).resolves.toBe('after 3');
  });

  it('fails naming what it waited for, with the last error when told to retry errors', async () => {
    await expect(eventually(() => false, 'the moon', 30, { intervalMs: 5 })).rejects.toThrow('timed out waiting for the moon');
    const refused = () => {
      throw new Error('connection refused');
    };
    await expect(eventually(refused, 'a service', 30, { intervalMs: 5, retryErrors: true })).rejects.toThrow('timed out waiting for a service: Error: connection refused');
    await expect(eventually(refused, 'a service', 30)).rejects.toThrow('connection refused');
  });
});

describe('FeedHarness', () => {
  let harness: FeedHarness;

  beforeEach(async () => {
    harness = await openFeedHarness({ providers: [correctPolling], hostOptions: { hostId: 'h1' }, feedDefaults: { trigger: 'items' } });
  });

  afterEach(async () => {
    await harness.close();
  });

  it('runs a stored feed on a host and reads back its status and the events it fires', async () => {
    const name = `harness-${randomId(4)}`;
    const source = MemorySource.create(name);
    source.push('a');
    source.push('b');
    const { events } = await harness.collectEvents<{ key: string }>();
    const feed = await harness.putFeed({ source: name, intervalMs: 10 });
    await harness.startHost();
    expect(await harness.waitForStatus(feed.id, 'active')).toMatchObject({ status: 'active', host: 'h1' });
    await eventually(() => events.length >= 2, 'two events');
    expect(events.map((event) => event.data.key)).toEqual(['a', 'b']);
    expect(events[0]).toMatchObject({ kindlingnamespace: 'guest', kindlingtrigger: 'items' });
    expect(harness.logLines.join('')).toContain('"msg":"polled"');
  });

  it('validates feed parameters as the API does, with the field named', async () => {
    await expect(harness.putFeed({ intervalMs: 10 })).rejects.toMatchObject({ code: 'KND_BAD_FEED_PARAMS', message: expect.stringContaining('source') });
  });
});
