import { randomUUID } from 'node:crypto';
import { type Clock, createCloudEvent, encodeJson, type EventBus, type FeedRecord, type Logger, scrubbingLogger, scrubSecrets, Subjects } from '@kindling/core';
import { type CompleteOptions, type FeedContext, FeedStoppedError, type FireOptions, type TeardownContext } from '@kindling/sdk';
import type { ProviderRegistry } from './provider-registry.js';
import { FencedCursor } from './fenced-cursor.js';
import type { FeedRepository } from './feed-repository.js';
import type { FeedStatusWriter } from './feed-status-writer.js';
import type { RunningFeed } from './running-feed.js';
import { SharedResourcePool } from './shared-resources.js';

/** What a feed's context reports to the host, once checked that the feed is still the current one. */
export interface FeedReports {
  fail(feed: RunningFeed, error: unknown): void;
  complete(feed: RunningFeed, reason: string, options: CompleteOptions): void;
}

export interface FeedContextsOptions {
  bus: EventBus;
  registry: ProviderRegistry;
  repo: FeedRepository;
  statuses: FeedStatusWriter;
  log: Logger;
  clock: Clock;
  publicUrl: string;
  /** The fence of the feed's partition while this host holds it. */
  fenceOf(feedId: string): number | undefined;
  /** A cursor write met a newer owner's: the feed's partition is lost. */
  fenced(feedId: string): void;
}

/** Builds what a provider sees of the platform: the feed's context, and the one of teardown. */
export class FeedContexts {
  private readonly pools = new Map<string, SharedResourcePool>();

  constructor(private readonly options: FeedContextsOptions) {}

  hookUrl(record: FeedRecord): string {
    return `${this.options.publicUrl.replace(/\/$/, '')}/hooks/${record.provider}/${record.id}`;
  }

  secretsOf(record: FeedRecord): string[] {
    return this.options.registry.secretValues(record.provider, record.kind, record.params);
  }

  /** The feed's logger: bound to the feed, with its declared secrets scrubbed by value. */
  feedLog(record: FeedRecord): Logger {
    const { log } = this.options;
    return scrubbingLogger(log.child({ feedId: record.id, provider: record.provider, kind: record.kind, trigger: record.trigger }), this.secretsOf(record));
  }

  pool(provider: string): SharedResourcePool {
    let pool = this.pools.get(provider);
    if (!pool) {
      pool = new SharedResourcePool(this.options.log);
      this.pools.set(provider, pool);
    }
    return pool;
  }

  cursorOf(feedId: string): FencedCursor {
    return new FencedCursor(this.options.repo.cursors, feedId, () => this.options.fenceOf(feedId), () => this.options.fenced(feedId));
  }

  teardownContext(record: FeedRecord, signal: AbortSignal): TeardownContext {
    return { log: this.feedLog(record), signal, cursor: this.cursorOf(record.id), hookUrl: this.hookUrl(record) };
  }

  /**
   * The context of a starting feed. Its logger is made on first use: a child logger per feed is
   * most of a host's memory at 100,000 feeds, and most feeds never log.
   */
  forFeed(record: FeedRecord, feed: RunningFeed, reports: FeedReports): FeedContext {
    const { bus, statuses, clock } = this.options;
    const signal = feed.abort.signal;
    const isCurrent = () => !signal.aborted;
    let log: Logger | undefined;
    const makeLog = () => this.feedLog(record);
    return {
      fire: async (data, options: FireOptions = {}) => {
        if (!isCurrent()) throw new FeedStoppedError(record.id);
        const event = createCloudEvent({
          namespace: record.namespace,
          trigger: record.trigger,
          data,
          id: options.id ?? randomUUID(),
          type: options.type ?? `dev.kindling.${record.provider}.${record.kind}`,
          source: options.source ?? `/kindling/providers/${record.provider}/feeds/${record.id}`,
          ...(options.time !== undefined ? { time: options.time } : {}),
          ...(options.subject !== undefined ? { subject: options.subject } : {}),
        });
        const ack = await bus.publish(Subjects.event(record.namespace, record.trigger), encodeJson(event), { msgId: `${record.id}:${event.id}` });
        statuses.fired(record.id, ack.duplicate);
        return { event, duplicate: ack.duplicate };
      },
      cursor: this.cursorOf(record.id),
      get log() {
        log ??= makeLog();
        return log;
      },
      signal,
      clock,
      resources: {
        acquire: (key, create, dispose) => this.pool(record.provider).acquire(record.id, key, create, dispose),
      },
      hookUrl: this.hookUrl(record),
      fail: (error) => {
        if (isCurrent()) reports.fail(feed, error);
      },
      degraded: (reason) => {
        if (!isCurrent()) return;
        feed.degradedReason = scrubSecrets(reason, this.secretsOf(record));
        const scrubbed = feed.degradedReason;
        this.changeStatus(feed, async () => statuses.set(record, 'failing', { reason: scrubbed }));
      },
      complete: (reason, options) => {
        if (isCurrent()) reports.complete(feed, reason, options ?? {});
      },
      healthy: () => {
        if (!isCurrent()) return;
        feed.degradedReason = undefined;
        this.changeStatus(feed, async () => {
          const status = await statuses.current(record.id);
          if (status && status.status !== 'active' && isCurrent()) statuses.set(record, 'active', {});
        });
      },
    };
  }

  private changeStatus(feed: RunningFeed, change: () => Promise<void>): void {
    feed.statusChanges = (feed.statusChanges ?? Promise.resolve()).then(change).catch((error) =>
      this.options.log.error({ feedId: feed.record.id, err: String(error) }, 'reading a feed status failed'),
    );
  }
}
