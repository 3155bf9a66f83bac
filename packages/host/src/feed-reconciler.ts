import { backoffDelay, type Clock, EntityStore, type FeedRecord, type KeyValueStore, type Logger, messageOf } from '@kindling/core';
import type { CompleteOptions } from '@kindling/sdk';
import type { ProviderRegistry } from './provider-registry.js';
import type { FeedContexts } from './feed-contexts.js';
import type { FeedIndex } from './feed-index.js';
import type { FeedRepository } from './feed-repository.js';
import type { FeedRunner } from './feed-runner.js';
import type { FeedStatusWriter } from './feed-status-writer.js';
import { guardedCall } from './guarded-call.js';

export interface FeedReconcilerOptions {
  index: FeedIndex;
  runner: FeedRunner;
  contexts: FeedContexts;
  statuses: FeedStatusWriter;
  repo: FeedRepository;
  store: KeyValueStore;
  registry: ProviderRegistry;
  log: Logger;
  clock: Clock;
  callTimeoutMs: number;
  /** Whether this host owns the feed (holds its partition's lease). */
  owns(feedId: string): boolean;
}

/**
 * Brings one feed in line with its stored record, level-triggered: runs it if this host owns it
 * and it should run, stops it otherwise, tears it down and removes it once deleted. Work for one
 * feed is queued, so two changes of a feed never race; different feeds proceed independently.
 */
export class FeedReconciler {
  private readonly queues = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly options: FeedReconcilerOptions) {}

  enqueue(feedId: string, task: () => Promise<void>): void {
    const previous = this.queues.get(feedId) ?? Promise.resolve();
    const next = previous
      .then(task)
      .catch((error) => this.options.log.error({ feedId, err: messageOf(error) }, 'reconciling a feed failed'))
      .finally(() => {
        if (this.queues.get(feedId) === next) this.queues.delete(feedId);
      });
    this.queues.set(feedId, next);
  }

  /**
   * Queues a reconciliation of the feed. One that fails (the store timed out, say, while a host
   * starts 100,000 feeds at once) is queued again after a backoff, or the feed would stay as it is
   * until its record next changes.
   */
  reconcileSoon(feedId: string, attempt = 1): void {
    this.enqueue(feedId, async () => {
      try {
        await this.reconcile(feedId);
      } catch (error) {
        if (this.stopped) return;
        const retryInMs = backoffDelay(attempt, { initialMs: 500, maxMs: 30_000 });
        this.options.log.warn({ feedId, err: messageOf(error), retryInMs }, 'reconciling a feed failed; trying again');
        setTimeout(() => this.reconcileSoon(feedId, attempt + 1), retryInMs).unref();
      }
    });
  }

  /** Queues a stop of the feed (its desired state is untouched); resolves once it has stopped. */
  stopSoon(feedId: string): Promise<void> {
    this.enqueue(feedId, () => this.options.runner.stop(feedId));
    return this.queues.get(feedId) ?? Promise.resolve();
  }

  /** Waits until every queued task has run. */
  async settled(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  /** No more starts: queued tasks end early; then waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.options.runner.cancelAllRetries();
    await this.settled();
  }

  async reconcile(feedId: string): Promise<void> {
    const { index, runner, statuses, registry, log, clock } = this.options;
    if (this.stopped) return;
    const record = index.get(feedId);
    if (!record || !this.options.owns(feedId)) {
      await runner.stop(feedId);
      return;
    }
    if (!registry.has(record.provider)) {
      log.warn({ feedId, provider: record.provider }, 'feed belongs to a provider this host has not loaded');
      return;
    }
    if (record.desired === 'deleted') {
      await this.delete(record);
      return;
    }
    const current = runner.get(feedId);
    if (current && current.record.generation === record.generation && record.desired === 'active') return;
    if (current) await runner.stop(feedId);
    runner.cancelRetry(feedId);
    if (record.desired === 'paused') {
      statuses.set(record, 'paused', { failures: 0 });
      return;
    }
    const status = await statuses.current(feedId);
    if (status?.status === 'disabled' && status.generation === record.generation) return;
    if (status?.status === 'failing' && status.generation === record.generation && status.retryAt && status.retryAt > clock.now()) {
      runner.scheduleRetry(record, status.retryAt - clock.now());
      return;
    }
    await runner.start(record, status?.generation === record.generation ? status.failures : 0);
  }

  /** The provider said the feed is done: disable it, or delete it (and its trigger, and maybe its rules). */
  async complete(record: FeedRecord, reason: string, options: CompleteOptions): Promise<void> {
    const { runner, statuses, log, repo, store, clock } = this.options;
    await runner.stop(record.id);
    log.info({ feedId: record.id, reason, deleteTrigger: options.deleteTrigger ?? false }, 'feed completed');
    if (!options.deleteTrigger) {
      statuses.set(record, 'disabled', { failures: 0, reason: `completed: ${reason}` });
      return;
    }
    const entities = await EntityStore.open(store);
    if (options.deleteTrigger === 'rules') {
      const rules = await entities.list('rules', record.namespace);
      await Promise.all(
        rules
          .filter((rule) => rule.trigger.path === record.namespace && rule.trigger.name === record.trigger)
          .map((rule) => entities.delete('rules', rule.namespace, rule.name)),
      );
    }
    const trigger = await entities.get('triggers', record.namespace, record.trigger);
    if (trigger?.value.feedId === record.id) {
      await entities.delete('triggers', record.namespace, record.trigger, { previousRevision: trigger.revision }).catch(() => undefined);
    }
    await repo.feeds.update(record.id, (current) => ({
      ...(current ?? record),
      desired: 'deleted',
      generation: (current ?? record).generation + 1,
      updatedAt: clock.now(),
    }));
  }

  private async delete(record: FeedRecord): Promise<void> {
    const { runner, contexts, statuses, registry, log, repo, callTimeoutMs } = this.options;
    await runner.stop(record.id);
    const teardown = registry.kind(record.provider, record.kind).teardown;
    if (teardown) {
      const abort = new AbortController();
      try {
        await guardedCall(`${record.provider} teardown`, callTimeoutMs, () => teardown({ ...record, params: record.params }, contexts.teardownContext(record, abort.signal)));
      } catch (error) {
        log.error({ feedId: record.id, err: messageOf(error) }, 'feed teardown failed; removing the feed anyway');
      }
    }
    await statuses.forget(record.id);
    await Promise.all([repo.cursors.delete(record.id), repo.statuses.delete(record.id)]);
    await repo.feeds.delete(record.id);
    log.debug({ feedId: record.id }, 'feed deleted');
  }
}
