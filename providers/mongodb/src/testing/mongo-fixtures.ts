import type { ProviderDefinition } from '@kindling/sdk';
import { openFeedHarness, type FeedHarness } from '@kindling/provider-testkit';

/**
 * The platform around a mongodb feed, for the test-double suite and the real-server suite: a
 * kit `FeedHarness` on the embedded backend whose hosts give up and retry quickly, with feeds on
 * trigger `changes` unless a test names another.
 */
export function openMongoHarness(provider: ProviderDefinition): Promise<FeedHarness> {
  return openFeedHarness({
    providers: [provider],
    hostOptions: { leaseTtlMs: 1000, maxFailures: 3, backoff: { initialMs: 50, maxMs: 200, jitter: 0 } },
    feedDefaults: { trigger: 'changes' },
  });
}
