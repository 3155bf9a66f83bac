import { backoffDelay, type BackoffOptions, type Clock, type FeedRecord, type Logger, messageOf, scrubSecrets, type TimerHandle } from '@kindling/core';
import { FeedError, type FeedInstance, FeedStoppedError } from '@kindling/sdk';
import type { ProviderRegistry } from './provider-registry.js';
import type { FeedContexts, FeedReports } from './feed-contexts.js';
import type { FeedStatusWriter } from './feed-status-writer.js';
import { guardedCall } from './guarded-call.js';
import type { RunningFeed } from './running-feed.js';

export interface FeedRunnerOptions {
  registry: ProviderRegistry;
  contexts: FeedContexts;
  statuses: FeedStatusWriter;
  log: Logger;
  clock: Clock;
  callTimeoutMs: number;
  maxFailures: number;
  stableAfterMs: number;
  backoff?: BackoffOptions;
  /** Runs a task in the feed's queue, after whatever is queued for it. */
  enqueue(feedId: string, task: () => Promise<void>): void;
  /** The feed's record as stored now. */
  latest(feedId: string): FeedRecord | undefined;
  reports: Pick<FeedReports, 'complete'>;
}

/**
 * Starts and stops feeds on this host: each provider call under a deadline, a failure retried
 * with backoff (status `failing`), too many or an unrecoverable one disabling the feed.
 */
export class FeedRunner {
  private readonly running = new Map<string, RunningFeed>();
  private readonly retryTimers = new Map<string, TimerHandle>();

  constructor(private readonly options: FeedRunnerOptions) {}

  get size(): number {
    return this.running.size;
  }

  ids(): string[] {
    return [...this.running.keys()];
  }

  get(feedId: string): RunningFeed | undefined {
    return this.running.get(feedId);
  }

  retrying(feedId: string): boolean {
    return this.retryTimers.has(feedId);
  }

  async start(record: FeedRecord, failures: number): Promise<void> {
    const { registry, contexts, statuses, log, callTimeoutMs } = this.options;
    const kind = registry.kind(record.provider, record.kind);
    const feed: RunningFeed = { record, abort: new AbortController() };
    this.running.set(record.id, feed);
    const ctx = contexts.forFeed(record, feed, {
      fail: (current, error) => this.options.enqueue(record.id, () => this.fail(current.record, current, error)),
      complete: (current, reason, options) => this.options.reports.complete(current, reason, options),
    });
    const instance: FeedInstance = {
      id: record.id,
      namespace: record.namespace,
      trigger: record.trigger,
      provider: record.provider,
      kind: record.kind,
      params: record.params,
      generation: record.generation,
    };
    let markStarted!: () => void;
    feed.started = new Promise((resolve) => (markStarted = resolve));
    try {
      feed.handle = await guardedCall(`${record.provider}/${record.kind} start`, callTimeoutMs, () => kind.start(instance, ctx));
    } catch (error) {
      markStarted();
      await this.fail(record, feed, error, failures);
      return;
    }
    markStarted();
    if (feed.abort.signal.aborted) return;
    if (feed.degradedReason !== undefined) statuses.set(record, 'failing', { failures, reason: feed.degradedReason });
    else statuses.set(record, 'active', { failures });
    log.debug({ feedId: record.id, provider: record.provider, kind: record.kind }, 'feed started');
    if (failures > 0) {
      feed.stableTimer = this.options.clock.setTimeout(() => {
        if (this.running.get(record.id) === feed) statuses.set(record, 'active', { failures: 0 });
      }, this.options.stableAfterMs);
    }
  }

  async fail(record: FeedRecord, feed: RunningFeed, error: unknown, previousFailures?: number): Promise<void> {
    if (feed.abort.signal.aborted && this.running.get(record.id) !== feed) return;
    const { contexts, statuses, log, maxFailures } = this.options;
    const reason = scrubSecrets(messageOf(error), contexts.secretsOf(record));
    await this.stop(record.id);
    const failures = (previousFailures ?? (await statuses.current(record.id))?.failures ?? 0) + 1;
    const unrecoverable = error instanceof FeedError && !error.retryable;
    if (unrecoverable || failures >= maxFailures) {
      const why = unrecoverable ? reason : `gave up after ${failures} consecutive failures; last: ${reason}`;
      log.error({ feedId: record.id, reason: why }, 'feed disabled');
      statuses.set(record, 'disabled', { failures, reason: why });
      return;
    }
    const delay = backoffDelay(failures, this.options.backoff);
    log.warn({ feedId: record.id, reason, failures, retryInMs: delay }, 'feed failing');
    statuses.set(record, 'failing', { failures, reason, retryAt: this.options.clock.now() + delay });
    this.scheduleRetry(record, delay);
  }

  scheduleRetry(record: FeedRecord, delayMs: number): void {
    this.cancelRetry(record.id);
    const timer = this.options.clock.setTimeout(() => {
      this.retryTimers.delete(record.id);
      this.options.enqueue(record.id, async () => {
        const latest = this.options.latest(record.id);
        if (!latest || latest.generation !== record.generation || latest.desired !== 'active' || this.running.has(record.id)) return;
        const status = await this.options.statuses.current(record.id);
        await this.start(latest, status?.failures ?? 0);
      });
    }, delayMs);
    this.retryTimers.set(record.id, timer);
  }

  cancelRetry(feedId: string): void {
    const timer = this.retryTimers.get(feedId);
    if (timer) this.options.clock.clearTimeout(timer);
    this.retryTimers.delete(feedId);
  }

  cancelAllRetries(): void {
    for (const feedId of [...this.retryTimers.keys()]) this.cancelRetry(feedId);
  }

  /** Stops the feed (its desired state is untouched); resolves once the provider has stopped it. */
  async stop(feedId: string): Promise<void> {
    this.cancelRetry(feedId);
    const feed = this.running.get(feedId);
    if (!feed) return;
    feed.stopping ??= (async () => {
      feed.abort.abort(new FeedStoppedError(feedId));
      if (feed.stableTimer) this.options.clock.clearTimeout(feed.stableTimer);
      await feed.started;
      if (feed.handle) {
        const handle = feed.handle;
        await guardedCall(`${feed.record.provider} stop`, this.options.callTimeoutMs, () => handle.stop()).catch((error) =>
          this.options.log.warn({ feedId, err: messageOf(error) }, 'stopping a feed failed'),
        );
      }
      await this.options.contexts.pool(feed.record.provider).releaseAll(feedId);
      if (this.running.get(feedId) === feed) this.running.delete(feedId);
    })();
    await feed.stopping;
  }
}
