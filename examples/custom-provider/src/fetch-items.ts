import { FeedError, z } from '@kindling/sdk';

/** One item of the feed: JSON Feed's shape, of which only `id` is required. */
export interface FeedItem {
  id: string;
  date_published?: string;
  [field: string]: unknown;
}

// JSON Feed (https://jsonfeed.org) is `{ items: [...] }`; a bare list of items works too.
const itemSchema = z.looseObject({ id: z.union([z.string(), z.number()]).transform(String), date_published: z.string().optional() });
const bodySchema = z.union([z.looseObject({ items: z.array(itemSchema) }).transform((feed) => feed.items), z.array(itemSchema)]);

/**
 * GETs the feed and returns its items. The request is aborted with the feed (stop, pause,
 * delete). A 401 or 403 disables the feed (the token is wrong: retrying will not help); any
 * other failure is retried by the host with backoff.
 */
export async function fetchItems(url: string, token: string | undefined, signal: AbortSignal): Promise<FeedItem[]> {
  const headers: Record<string, string> = { accept: 'application/feed+json, application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { headers, signal });
  if (!response.ok) {
    const refused = response.status === 401 || response.status === 403;
    const hint = refused ? ': check the token parameter' : '';
    throw new FeedError(`GET ${url} answered ${response.status} ${response.statusText}${hint}`, { retryable: !refused });
  }
  const body = bodySchema.safeParse(await response.json().catch(() => undefined));
  if (!body.success) throw new FeedError(`GET ${url} did not return a JSON Feed: expected { "items": [{ "id": … }] }`);
  return body.data as FeedItem[];
}
