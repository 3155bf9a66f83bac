import { type BackoffOptions, BucketMirror, type Clock, type EventBus, type FeedRecord, type KeyValueStore, KindlingError, type Logger, randomId, systemClock } from '@kindling/core';
import type { HookRequest, HookResponse } from '@kindling/sdk';
import type { ProviderRegistry } from './provider-registry.js';
import { FeedContexts } from './feed-contexts.js';
import { FeedIndex } from './feed-index.js';
import { FEED_PARTITIONS } from './feed-partitions.js';
import { FeedReconciler } from './feed-reconciler.js';
import { FeedRepository } from './feed-repository.js';
import { FeedRunner } from './feed-runner.js';
import { FeedStatusWriter } from './feed-status-writer.js';
import { guardedCall } from './guarded-call.js';
import { PartitionOwnership } from './partition-ownership.js';

export interface FeedHostOptions {
  store: KeyValueStore;
  bus: EventBus;
  registry: ProviderRegistry;
  log: Logger;
  /** Base URL the outside world reaches the API at; hook URLs are built on it. */
  publicUrl: string;
  clock?: Clock;
  hostId?: string;
  /** How long a host owns a feed partition without renewing its lease: the bound on a dead host's takeover. Default 6 s. */
  leaseTtlMs?: number;
  /** How often leases are renewed and the partitions balanced. Default a third of the lease TTL. */
  renewEveryMs?: number;
  /** How often changed statuses and fire counts are written. Default 1 s. */
  statusFlushMs?: number;
  /** Consecutive failures after which a feed is disabled. */
  maxFailures?: number;
  /** A feed that has run this long without failing has its failure count reset. */
  stableAfterMs?: number;
  backoff?: BackoffOptions;
  /** Deadline for every call into a provider (start, stop, teardown, hook). */
  callTimeoutMs?: number;
}

/**
 * A provider host: keeps a mirror of the stored feeds (its watch reopened when it ends), owns a
 * share of the feed partitions with the other hosts, and runs the feeds of the partitions it
 * owns, reconciling each with its stored record on every change. The parts: `BucketMirror`
 * (watching), `PartitionOwnership` (leases and balance), `FeedReconciler` (what a feed should
 * be), `FeedRunner` (starting with retry and backoff, stopping), `FeedContexts` (what a
 * provider sees), `FeedStatusWriter` (statuses and fire counts in batches).
 */
export class FeedHost {
  readonly hostId: string;
  private readonly index = new FeedIndex(FEED_PARTITIONS);
  private repo!: FeedRepository;
  private statuses!: FeedStatusWriter;
  private runner!: FeedRunner;
  private reconciler!: FeedReconciler;
  private ownership!: PartitionOwnership;
  private mirror?: BucketMirror<FeedRecord>;
  private reporting = false;
  private stopped = false;

  constructor(private readonly options: FeedHostOptions) {
    this.hostId = options.hostId ?? `host-${randomId(6)}`;
  }

  private get log(): Logger {
    return this.options.log;
  }

  async start(): Promise<void> {
    const { store, bus, registry, log, publicUrl } = this.options;
    const clock = this.options.clock ?? systemClock;
    const callTimeoutMs = this.options.callTimeoutMs ?? 30_000;
    const leaseTtlMs = this.options.leaseTtlMs ?? 6000;
    this.repo = await FeedRepository.open(store);
    this.ownership = new PartitionOwnership(
      { leases: this.repo.leases, hostId: this.hostId, partitions: FEED_PARTITIONS, ttlMs: leaseTtlMs, renewEveryMs: this.options.renewEveryMs ?? Math.max(100, Math.floor(leaseTtlMs / 3)), log },
      {
        acquired: (partition) => {
          for (const feedId of this.index.inPartition(partition)) this.reconciler.reconcileSoon(feedId);
          this.reportRunning();
        },
        releasing: async (partition) => {
          await Promise.all(this.runningIn(partition).map((feedId) => this.reconciler.stopSoon(feedId)));
        },
        lost: (partition) => {
          for (const feedId of this.runningIn(partition)) void this.reconciler.stopSoon(feedId);
          this.reportRunning();
        },
      },
    );
    this.statuses = new FeedStatusWriter(this.repo.statuses, this.hostId, log, (feedId) => this.owns(feedId));
    const contexts = new FeedContexts({
      bus,
      registry,
      repo: this.repo,
      statuses: this.statuses,
      log,
      clock,
      publicUrl,
      fenceOf: (feedId) => this.ownership.fence(this.index.partitionOf(feedId)),
      fenced: (feedId) => this.ownership.markLost(this.index.partitionOf(feedId)),
    });
    this.runner = new FeedRunner({
      registry,
      contexts,
      statuses: this.statuses,
      log,
      clock,
      callTimeoutMs,
      maxFailures: this.options.maxFailures ?? 10,
      stableAfterMs: this.options.stableAfterMs ?? 60_000,
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      enqueue: (feedId, task) => this.reconciler.enqueue(feedId, task),
      latest: (feedId) => this.index.get(feedId),
      reports: { complete: (feed, reason, options) => this.reconciler.enqueue(feed.record.id, () => this.reconciler.complete(feed.record, reason, options)) },
    });
    this.reconciler = new FeedReconciler({
      index: this.index,
      runner: this.runner,
      contexts,
      statuses: this.statuses,
      repo: this.repo,
      store,
      registry,
      log,
      clock,
      callTimeoutMs,
      owns: (feedId) => this.owns(feedId),
    });
    this.mirror = new BucketMirror<FeedRecord>(
      this.repo.feeds.raw,
      {
        reset: (entries) => {
          for (const feedId of this.index.replace(entries)) this.changed(feedId);
        },
        change: (feedId, record) => {
          if (this.index.change(feedId, record)) this.changed(feedId);
        },
      },
      log,
    );
    await this.mirror.start();
    this.statuses.start(this.options.statusFlushMs ?? 1000);
    await this.ownership.start();
    log.info({ host: this.hostId, feeds: this.index.size, partitions: this.ownership.owned().length }, 'provider host started');
  }

  /** Stops every running feed (their desired state is untouched) and gives up its partitions. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.mirror?.stop();
    await this.reconciler.stop();
    await Promise.all(this.runner.ids().map((feedId) => this.runner.stop(feedId)));
    // While the partitions are still held: a status of a feed this host no longer owns is not written.
    await this.statuses.stop();
    await this.ownership.stop();
  }

  /** Feed ids running on this host now. */
  runningFeeds(): string[] {
    return this.runner.ids();
  }

  /** The feed partitions this host owns now. */
  ownedPartitions(): number[] {
    return this.ownership.owned();
  }

  /** Waits until every queued reconciliation has run: for tests and orderly shutdowns. */
  async settled(): Promise<void> {
    await this.reconciler.settled();
  }

  /** Writes the pending statuses and fire counts now, rather than at the next interval. */
  async flushStatuses(): Promise<void> {
    await this.statuses.flush();
  }

  /** Routes a hook request (`POST /hooks/<provider>/<feed id>`) to its feed. */
  async dispatchHook(provider: string, feedId: string, request: HookRequest): Promise<HookResponse> {
    const record = this.index.get(feedId);
    if (!record || record.provider !== provider || record.desired === 'deleted') {
      throw new KindlingError('KND_NOT_FOUND', `no ${provider} feed with id '${feedId}'`);
    }
    if (record.desired === 'paused') return { status: 200, body: { fired: false, reason: 'the feed is paused' } };
    const feed = this.runner.get(feedId);
    await feed?.started;
    if (!feed?.handle) {
      const status = await this.statuses.current(feedId);
      const why = status?.reason ? `: ${status.reason}` : '';
      return { status: 503, body: { fired: false, reason: `the feed is ${status?.status ?? 'not running'}${why}` } };
    }
    if (!feed.handle.hook) throw new KindlingError('KND_NOT_FOUND', `feed '${feedId}' does not accept hooks`);
    const hook = feed.handle.hook;
    return guardedCall(`${provider} hook`, Math.min(this.options.callTimeoutMs ?? 30_000, 9000), () => hook(request));
  }

  private owns(feedId: string): boolean {
    return this.ownership.holds(this.index.partitionOf(feedId));
  }

  private runningIn(partition: number): string[] {
    return this.runner.ids().filter((feedId) => this.index.partitionOf(feedId) === partition);
  }

  /** A stored record changed: reconcile it if it is this host's, or if it runs here. */
  private changed(feedId: string): void {
    if (this.stopped) return;
    if (this.owns(feedId) || this.runner.get(feedId) || this.runner.retrying(feedId)) {
      this.reconciler.reconcileSoon(feedId);
      this.reportRunning();
    }
  }

  /** Logs how many feeds run here once the starts and stops under way are done (one line, however many feeds or partitions moved). */
  private reportRunning(): void {
    if (this.reporting) return;
    this.reporting = true;
    setImmediate(() => {
      void this.reconciler.settled().then(() => {
        this.reporting = false;
        if (this.stopped) return;
        this.log.info({ host: this.hostId, running: this.runner.size, partitions: this.ownership.owned().length }, 'feeds running');
      });
    });
  }
}
