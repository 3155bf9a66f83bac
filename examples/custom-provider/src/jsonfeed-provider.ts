import { defineFeedKind, defineProvider, deterministicId, polling, SDK_VERSION, z } from '@kindling/sdk';
import { fetchItems } from './fetch-items.js';

export const jsonFeedParams = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL of a JSON Feed' }),
  intervalSeconds: z.number().int().min(1, 'must be at least 1').default(60),
  token: z.string().min(1, 'must not be empty').optional(),
});
export type JsonFeedParams = z.output<typeof jsonFeedParams>;

/** Where the feed is: the ids of the items in the last listing. New items are those not in it. */
interface Cursor {
  seen: string[];
}

export const jsonFeedProvider = defineProvider({
  name: 'jsonfeed',
  sdkVersion: SDK_VERSION,
  description: 'Polls JSON Feeds over HTTP',
  kinds: {
    items: defineFeedKind<JsonFeedParams>({
      description: 'Fires once for each new item of a JSON Feed, checked every intervalSeconds',
      params: jsonFeedParams,
      secrets: ['token'],
      pattern: 'polling',
      start: polling<JsonFeedParams, Cursor>({
        intervalMs: (params) => params.intervalSeconds * 1000,
        async poll(feed, ctx, cursor) {
          const items = await fetchItems(feed.params.url, feed.params.token, ctx.signal);
          // A new feed starts from now: what the feed lists already is history, not news.
          const seen = new Set(cursor?.seen ?? items.map((item) => item.id));
          const fresh = items.filter((item) => !seen.has(item.id)).reverse();
          ctx.log.debug({ items: items.length, fresh: fresh.length }, 'polled the feed');
          return {
            // The id derives from the item's own id: an item fired again (after a crash) is absorbed.
            events: fresh.map((item) => ({ data: item, id: deterministicId(feed.params.url, item.id), ...timeOf(item) })),
            cursor: { seen: items.map((item) => item.id) },
          };
        },
      }),
    }),
  },
});

function timeOf(item: { date_published?: string }): { time?: string } {
  return item.date_published && !Number.isNaN(Date.parse(item.date_published)) ? { time: item.date_published } : {};
}
