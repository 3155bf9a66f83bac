import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { silentLogger } from '@kindling/sdk';
import { ProviderRegistry, describeProviderConformance } from '@kindling/provider-testkit';
import { jsonFeedProvider } from './jsonfeed-provider.js';
import { FeedServer } from './testing/feed-server.js';

const TOKEN = 'feed-reader-token-51c3';
const server = new FeedServer(TOKEN);

beforeAll(() => server.start());
afterAll(() => server.stop());

// The conformance kit: the whole feed lifecycle on a real provider host, with a fake clock and
// injected faults. Its source: publish an item on the test's feed server.
describeProviderConformance({
  provider: jsonFeedProvider,
  kind: 'items',
  params: () => ({ url: server.url, intervalSeconds: 30, token: TOKEN }),
  source: {
    emit: async ({ token }) => server.publish(token, `Post ${token}`),
  },
});

describe('jsonfeed/items parameters', () => {
  const registry = new ProviderRegistry([jsonFeedProvider]);
  const validate = (params: Record<string, unknown>) => registry.validateParams('jsonfeed', 'items', params, { log: silentLogger(), signal: new AbortController().signal });

  it('refuses a URL that is not http(s), naming the field', async () => {
    await expect(validate({ url: 'ftp://example.com/feed.json' })).rejects.toThrow("'url': must be the http(s) URL of a JSON Feed");
  });

  it('polls every minute unless told otherwise', async () => {
    expect(await validate({ url: 'http://127.0.0.1:8080/feed.json' })).toEqual({ url: 'http://127.0.0.1:8080/feed.json', intervalSeconds: 60 });
  });
});
