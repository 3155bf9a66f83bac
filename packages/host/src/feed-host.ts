import { randomUUID } from 'node:crypto';
import {
  backoffDelay,
  type BackoffOptions,
  type Clock,
  createCloudEvent,
  encodeJson,
  EntityStore,
  type EventBus,
  type FeedRecord,
  type FeedStatusName,
  type FeedStatusRecord,
  type KeyValueStore,
  KindlingError,
  type Logger,
  messageOf,
  randomId,
  scrubbingLogger,
  scrubSecrets,
  Subjects,
  systemClock,
  type TimerHandle,
} from '@kindling/core';
import {
  type CompleteOptions,
  type CursorStore,
  type FeedContext,
  FeedError,
  type FeedHandle,
  type FeedInstance,
  type FeedKindDefinition,
  FeedStoppedError,
  type FireOptions,
  type HookRequest,
  type HookResponse,
} from '@kindling/sdk';
import type { ProviderRegistry } from './provider-registry.js';
import { FeedRepository } from './feed-repository.js';
import { guardedCall } from './guarded-call.js';
import { LeaseKeeper } from './lease-keeper.js';
import { SharedResourcePool } from './shared-resources.js';

export interface FeedHostOptions {
  store: KeyValueStore;
  bus: EventBus;
  registry: ProviderRegistry;
  log: Logger;
  /** Base URL the outside world reaches the API at; hook URLs are built on it. */
  publicUrl: string;
  clock?: Clock;
  hostId?: string;
  /** How long a host owns a feed without renewing its lease. */
  leaseTtlMs?: number;
  /** Consecutive failures after which a feed is disabled. */
  maxFailures?: number;
  /** A feed that has run this long without failing has its failure count reset. */
  stableAfterMs?: number;
  backoff?: BackoffOptions;
  /** Deadline for every call into a provider (start, stop, teardown, hook). */
  callTimeoutMs?: number;
}

interface RunningFeed {
  record: FeedRecord;
  abort: AbortController;
  handle?: FeedHandle;
  stopping?: Promise<void>;
  stableTimer?: TimerHandle;
  /** Resolves once `start` has returned (or failed). */
  started?: Promise<void>;
  /** The reason of the last `degraded` not followed by `healthy`: a feed can report it during start. */
  degradedReason?: string;
  /** Status writes from `degraded`/`healthy`, in call order, so that a quick flip lands in order. */
  statusWrites?: Promise<void>;
}

/**
 * A provider host: reconciles the stored feeds with the running ones, level-triggered, on start,
 * on every change, and periodically (so that the feeds of a host that died are taken over once
 * their leases expire). Each provider call is guarded by a deadline and a try/catch, so one feed
 * that throws or hangs never stops another.
 */
export class FeedHost {
  readonly hostId: string;
  private readonly clock: Clock;
  private readonly leaseTtlMs: number;
  private readonly maxFailures: number;
  private readonly stableAfterMs: number;
  private readonly callTimeoutMs: number;
  private repo!: FeedRepository;
  private leases!: LeaseKeeper;
  private readonly records = new Map<string, FeedRecord>();
  private readonly running = new Map<string, RunningFeed>();
  private readonly retryTimers = new Map<string, TimerHandle>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly pools = new Map<string, SharedResourcePool>();
  private readonly fireCounts = new Map<string, { fires: number; lastFireAt: number }>();
  private watchLoop?: Promise<void>;
  private stopWatch?: () => void;
  private resyncTimer?: NodeJS.Timeout;
  private flushTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: FeedHostOptions) {
    this.clock = options.clock ?? systemClock;
    this.hostId = options.hostId ?? `host-${randomId(6)}`;
    this.leaseTtlMs = options.leaseTtlMs ?? 15_000;
    this.maxFailures = options.maxFailures ?? 10;
    this.stableAfterMs = options.stableAfterMs ?? 60_000;
    this.callTimeoutMs = options.callTimeoutMs ?? 30_000;
  }

  private get log(): Logger {
    return this.options.log;
  }

  async start(): Promise<void> {
    this.repo = await FeedRepository.open(this.options.store);
    this.leases = new LeaseKeeper(this.repo.leases, this.hostId, this.leaseTtlMs, (feedId) => {
      this.log.warn({ feedId }, 'lost the lease of a feed; stopping it here');
      this.enqueue(feedId, () => this.stopFeed(feedId));
    });
    const raw = await this.options.store.bucket(this.repo.feeds.raw.name);
    const watch = await raw.watch();
    this.stopWatch = () => watch.stop();
    let initialized!: () => void;
    const ready = new Promise<void>((resolve) => (initialized = resolve));
    this.watchLoop = (async () => {
      for await (const change of watch) {
        if (change === 'initialized') {
          initialized();
          continue;
        }
        const record = change.value ? (JSON.parse(Buffer.from(change.value).toString('utf8')) as FeedRecord) : null;
        if (record) this.records.set(change.key, record);
        else this.records.delete(change.key);
        this.enqueue(change.key, () => this.reconcile(change.key));
      }
      initialized();
    })().catch((error) => this.log.error({ err: messageOf(error) }, 'feed watch ended'));
    await ready;
    this.leases.start();
    this.resyncTimer = setInterval(() => this.resync(), Math.max(1000, this.leaseTtlMs / 2));
    this.resyncTimer.unref();
    this.flushTimer = setInterval(() => void this.flushFireCounts(), 2000);
    this.flushTimer.unref();
    this.log.info({ host: this.hostId, feeds: this.records.size }, 'provider host started');
  }

  /** Stops every running feed (their desired state is untouched) and gives up their leases. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearInterval(this.flushTimer);
    this.stopWatch?.();
    for (const timer of this.retryTimers.values()) this.clock.clearTimeout(timer);
    this.retryTimers.clear();
    await Promise.allSettled([...this.queues.values()]);
    await Promise.all([...this.running.keys()].map((id) => this.stopFeed(id)));
    await this.flushFireCounts();
    await this.leases.stop();
    await this.watchLoop;
  }

  /** Feed ids running on this host now. */
  runningFeeds(): string[] {
    return [...this.running.keys()];
  }

  /** Waits until every queued reconciliation has run: for tests and orderly shutdowns. */
  async settled(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  /** Routes a hook request (`POST /hooks/<provider>/<feed id>`) to its feed. */
  async dispatchHook(provider: string, feedId: string, request: HookRequest): Promise<HookResponse> {
    const record = this.records.get(feedId);
    if (!record || record.provider !== provider || record.desired === 'deleted') {
      throw new KindlingError('KND_NOT_FOUND', `no ${provider} feed with id '${feedId}'`);
    }
    if (record.desired === 'paused') return { status: 200, body: { fired: false, reason: 'the feed is paused' } };
    const feed = this.running.get(feedId);
    await feed?.started;
    if (!feed?.handle) {
      const status = await this.repo.statuses.get(feedId);
      const why = status?.value.reason ? `: ${status.value.reason}` : '';
      return { status: 503, body: { fired: false, reason: `the feed is ${status?.value.status ?? 'not running'}${why}` } };
    }
    if (!feed.handle.hook) throw new KindlingError('KND_NOT_FOUND', `feed '${feedId}' does not accept hooks`);
    const hook = feed.handle.hook;
    return guardedCall(`${provider} hook`, Math.min(this.callTimeoutMs, 9000), () => hook(request));
  }

  private enqueue(feedId: string, task: () => Promise<void>): void {
    const previous = this.queues.get(feedId) ?? Promise.resolve();
    const next = previous
      .then(task)
      .catch((error) => this.log.error({ feedId, err: messageOf(error) }, 'reconciling a feed failed'))
      .finally(() => {
        if (this.queues.get(feedId) === next) this.queues.delete(feedId);
      });
    this.queues.set(feedId, next);
  }

  private resync(): void {
    if (this.stopped) return;
    for (const [feedId, record] of this.records) {
      const idle = !this.running.has(feedId) && !this.retryTimers.has(feedId) && !this.queues.has(feedId);
      if (idle && record.desired !== 'paused' && this.options.registry.has(record.provider)) {
        this.enqueue(feedId, () => this.reconcile(feedId));
      }
    }
  }

  private async reconcile(feedId: string): Promise<void> {
    if (this.stopped) return;
    const record = this.records.get(feedId);
    if (!record) {
      await this.stopFeed(feedId);
      return;
    }
    if (!this.options.registry.has(record.provider)) {
      this.log.warn({ feedId, provider: record.provider }, 'feed belongs to a provider this host has not loaded');
      return;
    }
    if (!(await this.leases.acquire(feedId))) {
      await this.stopFeed(feedId);
      return;
    }
    if (record.desired === 'deleted') {
      await this.deleteFeed(record);
      return;
    }
    const current = this.running.get(feedId);
    if (current && current.record.generation === record.generation && record.desired === 'active') return;
    if (current) await this.stopFeed(feedId);
    this.cancelRetry(feedId);
    if (record.desired === 'paused') {
      await this.writeStatus(record, 'paused', { failures: 0 });
      return;
    }
    const status = (await this.repo.statuses.get(feedId))?.value;
    if (status?.status === 'disabled' && status.generation === record.generation) return;
    if (status?.status === 'failing' && status.generation === record.generation && status.retryAt && status.retryAt > this.clock.now()) {
      this.scheduleRetry(record, status.retryAt - this.clock.now());
      return;
    }
    await this.startFeed(record, status?.generation === record.generation ? status.failures : 0);
  }

  private kindOf(record: FeedRecord): FeedKindDefinition<Record<string, unknown>> {
    return this.options.registry.kind(record.provider, record.kind);
  }

  private async startFeed(record: FeedRecord, failures: number): Promise<void> {
    const kind = this.kindOf(record);
    const abort = new AbortController();
    const feed: RunningFeed = { record, abort };
    this.running.set(record.id, feed);
    const ctx = this.contextFor(record, feed);
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
      feed.handle = await guardedCall(`${record.provider}/${record.kind} start`, this.callTimeoutMs, () => kind.start(instance, ctx));
    } catch (error) {
      markStarted();
      await this.failFeed(record, feed, error, failures);
      return;
    }
    markStarted();
    if (abort.signal.aborted) return;
    if (feed.degradedReason !== undefined) await this.writeStatus(record, 'failing', { failures, reason: feed.degradedReason });
    else await this.writeStatus(record, 'active', { failures });
    this.log.info({ feedId: record.id, provider: record.provider, kind: record.kind }, 'feed started');
    if (failures > 0) {
      feed.stableTimer = this.clock.setTimeout(() => {
        if (this.running.get(record.id) === feed) void this.writeStatus(record, 'active', { failures: 0 });
      }, this.stableAfterMs);
    }
  }

  private async failFeed(record: FeedRecord, feed: RunningFeed, error: unknown, previousFailures?: number): Promise<void> {
    if (feed.abort.signal.aborted && this.running.get(record.id) !== feed) return;
    const secrets = this.options.registry.secretValues(record.provider, record.kind, record.params);
    const reason = scrubSecrets(messageOf(error), secrets);
    await this.stopFeed(record.id);
    const failures = (previousFailures ?? (await this.repo.statuses.get(record.id))?.value.failures ?? 0) + 1;
    const unrecoverable = error instanceof FeedError && !error.retryable;
    if (unrecoverable || failures >= this.maxFailures) {
      const why = unrecoverable ? reason : `gave up after ${failures} consecutive failures; last: ${reason}`;
      this.log.error({ feedId: record.id, reason: why }, 'feed disabled');
      await this.writeStatus(record, 'disabled', { failures, reason: why });
      return;
    }
    const delay = backoffDelay(failures, this.options.backoff);
    this.log.warn({ feedId: record.id, reason, failures, retryInMs: delay }, 'feed failing');
    await this.writeStatus(record, 'failing', { failures, reason, retryAt: this.clock.now() + delay });
    this.scheduleRetry(record, delay);
  }

  private scheduleRetry(record: FeedRecord, delayMs: number): void {
    this.cancelRetry(record.id);
    const timer = this.clock.setTimeout(() => {
      this.retryTimers.delete(record.id);
      this.enqueue(record.id, async () => {
        const latest = this.records.get(record.id);
        if (this.stopped || !latest || latest.generation !== record.generation || latest.desired !== 'active') return;
        if (this.running.has(record.id)) return;
        const status = (await this.repo.statuses.get(record.id))?.value;
        await this.startFeed(latest, status?.failures ?? 0);
      });
    }, delayMs);
    this.retryTimers.set(record.id, timer);
  }

  private cancelRetry(feedId: string): void {
    const timer = this.retryTimers.get(feedId);
    if (timer) this.clock.clearTimeout(timer);
    this.retryTimers.delete(feedId);
  }

  private async stopFeed(feedId: string): Promise<void> {
    this.cancelRetry(feedId);
    const feed = this.running.get(feedId);
    if (!feed) return;
    if (!feed.stopping) {
      feed.stopping = (async () => {
        feed.abort.abort(new FeedStoppedError(feedId));
        if (feed.stableTimer) this.clock.clearTimeout(feed.stableTimer);
        await feed.started;
        if (feed.handle) {
          const handle = feed.handle;
          await guardedCall(`${feed.record.provider} stop`, this.callTimeoutMs, () => handle.stop()).catch((error) =>
            this.log.warn({ feedId, err: messageOf(error) }, 'stopping a feed failed'),
          );
        }
        await this.poolFor(feed.record.provider).releaseAll(feedId);
        if (this.running.get(feedId) === feed) this.running.delete(feedId);
      })();
    }
    await feed.stopping;
  }

  private async completeFeed(record: FeedRecord, reason: string, options: CompleteOptions): Promise<void> {
    await this.stopFeed(record.id);
    this.log.info({ feedId: record.id, reason, deleteTrigger: options.deleteTrigger ?? false }, 'feed completed');
    if (!options.deleteTrigger) {
      await this.writeStatus(record, 'disabled', { failures: 0, reason: `completed: ${reason}` });
      return;
    }
    const entities = await EntityStore.open(this.options.store);
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
    await this.repo.feeds.update(record.id, (current) => ({
      ...(current ?? record),
      desired: 'deleted',
      generation: (current ?? record).generation + 1,
      updatedAt: this.clock.now(),
    }));
  }

  private async deleteFeed(record: FeedRecord): Promise<void> {
    await this.stopFeed(record.id);
    const kind = this.kindOf(record);
    if (kind.teardown) {
      const teardown = kind.teardown;
      const abort = new AbortController();
      try {
        await guardedCall(`${record.provider} teardown`, this.callTimeoutMs, () =>
          teardown(
            { ...record, params: record.params },
            { log: this.feedLog(record), signal: abort.signal, cursor: this.cursorFor(record.id), hookUrl: this.hookUrl(record) },
          ),
        );
      } catch (error) {
        this.log.error({ feedId: record.id, err: messageOf(error) }, 'feed teardown failed; removing the feed anyway');
      }
    }
    await Promise.all([this.repo.cursors.delete(record.id), this.repo.statuses.delete(record.id)]);
    await this.repo.feeds.delete(record.id);
    await this.leases.release(record.id);
    this.fireCounts.delete(record.id);
    this.log.info({ feedId: record.id }, 'feed deleted');
  }

  private hookUrl(record: FeedRecord): string {
    return `${this.options.publicUrl.replace(/\/$/, '')}/hooks/${record.provider}/${record.id}`;
  }

  /** The feed's logger: bound to the feed, with its declared secrets scrubbed by value. */
  private feedLog(record: FeedRecord): Logger {
    const secrets = this.options.registry.secretValues(record.provider, record.kind, record.params);
    return scrubbingLogger(this.log.child({ feedId: record.id, provider: record.provider, kind: record.kind, trigger: record.trigger }), secrets);
  }

  private poolFor(provider: string): SharedResourcePool {
    let pool = this.pools.get(provider);
    if (!pool) {
      pool = new SharedResourcePool(this.log);
      this.pools.set(provider, pool);
    }
    return pool;
  }

  private cursorFor(feedId: string): CursorStore {
    return {
      get: async <T>() => (await this.repo.cursors.get(feedId))?.value as T | undefined,
      set: async <T>(value: T) => {
        await this.repo.cursors.put(feedId, value);
      },
    };
  }

  private contextFor(record: FeedRecord, feed: RunningFeed): FeedContext {
    const { bus } = this.options;
    const signal = feed.abort.signal;
    const current = () => this.running.get(record.id) === feed && !signal.aborted;
    return {
      fire: async (data, options: FireOptions = {}) => {
        if (!current()) throw new FeedStoppedError(record.id);
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
        const ack = await bus.publish(Subjects.event(record.namespace, record.trigger), encodeJson(event), {
          msgId: `${record.id}:${event.id}`,
        });
        const counts = this.fireCounts.get(record.id) ?? { fires: 0, lastFireAt: 0 };
        if (!ack.duplicate) counts.fires++;
        counts.lastFireAt = this.clock.now();
        this.fireCounts.set(record.id, counts);
        return { event, duplicate: ack.duplicate };
      },
      cursor: this.cursorFor(record.id),
      log: this.feedLog(record),
      signal,
      clock: this.clock,
      resources: {
        acquire: (key, create, dispose) => this.poolFor(record.provider).acquire(record.id, key, create, dispose),
      },
      hookUrl: this.hookUrl(record),
      fail: (error) => {
        if (!current()) return;
        this.enqueue(record.id, () => this.failFeed(record, feed, error));
      },
      degraded: (reason) => {
        if (!current()) return;
        const secrets = this.options.registry.secretValues(record.provider, record.kind, record.params);
        feed.degradedReason = scrubSecrets(reason, secrets);
        const scrubbed = feed.degradedReason;
        this.chainStatusWrite(feed, () => this.writeStatus(record, 'failing', { reason: scrubbed }));
      },
      complete: (reason, options) => {
        if (!current()) return;
        this.enqueue(record.id, () => this.completeFeed(record, reason, options ?? {}));
      },
      healthy: () => {
        if (!current()) return;
        feed.degradedReason = undefined;
        this.chainStatusWrite(feed, async () => {
          const status = await this.repo.statuses.get(record.id);
          if (status && status.value.status !== 'active' && current()) await this.writeStatus(record, 'active', {});
        });
      },
    };
  }

  private chainStatusWrite(feed: RunningFeed, write: () => Promise<void>): void {
    feed.statusWrites = (feed.statusWrites ?? Promise.resolve()).then(write).catch((error) =>
      this.log.error({ feedId: feed.record.id, err: messageOf(error) }, 'writing a feed status failed'),
    );
  }

  private async writeStatus(
    record: FeedRecord,
    status: FeedStatusName,
    patch: { failures?: number; reason?: string; retryAt?: number },
  ): Promise<void> {
    try {
      await this.repo.statuses.update(record.id, (previous) => {
        const next: FeedStatusRecord = {
          feedId: record.id,
          status,
          since: previous?.status === status ? previous.since : this.clock.now(),
          failures: patch.failures ?? previous?.failures ?? 0,
          generation: record.generation,
          host: this.hostId,
          fires: previous?.fires ?? 0,
        };
        if (previous?.lastFireAt !== undefined) next.lastFireAt = previous.lastFireAt;
        if (patch.reason !== undefined) next.reason = patch.reason;
        if (patch.retryAt !== undefined) next.retryAt = patch.retryAt;
        return next;
      });
    } catch (error) {
      this.log.error({ feedId: record.id, err: messageOf(error) }, 'writing a feed status failed');
    }
  }

  private async flushFireCounts(): Promise<void> {
    const pending = [...this.fireCounts.entries()].filter(([, c]) => c.fires > 0 || c.lastFireAt > 0);
    this.fireCounts.clear();
    await Promise.all(
      pending.map(([feedId, counts]) =>
        this.repo.statuses
          .update(feedId, (previous) => {
            if (!previous) {
              const record = this.records.get(feedId);
              return { feedId, status: 'active', since: this.clock.now(), failures: 0, generation: record?.generation ?? 0, fires: counts.fires, lastFireAt: counts.lastFireAt };
            }
            return { ...previous, fires: previous.fires + counts.fires, lastFireAt: counts.lastFireAt };
          })
          .catch((error) => this.log.warn({ feedId, err: messageOf(error) }, 'recording fire counts failed')),
      ),
    );
  }
}
