import { BucketMirror, type FeedDesiredState, type FeedRecord, type FeedStatusName, type FeedStatusRecord, type Logger } from '@kindling/core';
import type { FeedRepository } from '@kindling/host';

/** What a list filters and sorts on: a few fields of each feed, not the record. */
interface CatalogEntry {
  namespace: string;
  trigger: string;
  provider: string;
  desired: FeedDesiredState;
  updatedAt: number;
}

export interface FeedFilter {
  status?: FeedStatusName;
  provider?: string;
  /** Feeds whose trigger name starts with this. */
  triggerPrefix?: string;
}

/**
 * The API's index of the feeds, for `GET /feeds`: kept in memory by watching the feeds and
 * status buckets (the feed records are keyed by id, so a store query by namespace, status or
 * provider would read every record). A page is filtered and sorted here; only its records are
 * read from the store.
 */
export class FeedCatalog {
  private readonly feeds = new Map<string, CatalogEntry>();
  private readonly statuses = new Map<string, FeedStatusName>();

  private readonly feedMirror: BucketMirror<FeedRecord>;
  private readonly statusMirror: BucketMirror<FeedStatusRecord>;

  private constructor(repo: FeedRepository, log: Logger) {
    this.feedMirror = new BucketMirror<FeedRecord>(
      repo.feeds.raw,
      {
        reset: (entries) => {
          this.feeds.clear();
          for (const [id, record] of entries) this.setFeed(id, record);
        },
        change: (id, record) => this.setFeed(id, record),
      },
      log,
    );
    this.statusMirror = new BucketMirror<FeedStatusRecord>(
      repo.statuses.raw,
      {
        reset: (entries) => {
          this.statuses.clear();
          for (const [id, status] of entries) this.statuses.set(id, status.status);
        },
        change: (id, status) => (status ? this.statuses.set(id, status.status) : this.statuses.delete(id)),
      },
      log,
    );
  }

  static async open(repo: FeedRepository, log: Logger): Promise<FeedCatalog> {
    const catalog = new FeedCatalog(repo, log);
    await Promise.all([catalog.feedMirror.start(), catalog.statusMirror.start()]);
    return catalog;
  }

  async close(): Promise<void> {
    await Promise.all([this.feedMirror.stop(), this.statusMirror.stop()]);
  }

  /** Resolves once the catalog shows the feeds bucket write that returned `revision`. */
  reflects(revision: number): Promise<void> {
    return this.feedMirror.reflects(revision);
  }

  /** The ids of a namespace's live feeds that pass `filter`, newest change first, and how many there are in all. */
  list(namespace: string, filter: FeedFilter, page: { skip: number; limit: number }): { ids: string[]; total: number } {
    const matches: Array<[string, CatalogEntry]> = [];
    for (const entry of this.feeds) {
      const feed = entry[1];
      if (feed.namespace !== namespace || feed.desired === 'deleted') continue;
      if (filter.provider !== undefined && feed.provider !== filter.provider) continue;
      if (filter.triggerPrefix !== undefined && !feed.trigger.startsWith(filter.triggerPrefix)) continue;
      if (filter.status !== undefined && (this.statuses.get(entry[0]) ?? 'pending') !== filter.status) continue;
      matches.push(entry);
    }
    matches.sort(([idA, a], [idB, b]) => b.updatedAt - a.updatedAt || (idA < idB ? -1 : 1));
    return { ids: matches.slice(page.skip, page.skip + page.limit).map(([id]) => id), total: matches.length };
  }

  private setFeed(id: string, record: FeedRecord | null): void {
    if (!record) {
      this.feeds.delete(id);
      return;
    }
    this.feeds.set(id, { namespace: record.namespace, trigger: record.trigger, provider: record.provider, desired: record.desired, updatedAt: record.updatedAt });
  }
}
