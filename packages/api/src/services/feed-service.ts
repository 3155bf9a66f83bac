import {
  entityKey,
  KindlingError,
  messageOf,
  randomId,
  scrubSecrets,
  type EntityStore,
  type FeedDesiredState,
  type FeedRecord,
  type FeedStatusRecord,
  type KeyValue,
  type Logger,
  type TriggerRecord,
  type Versioned,
} from '@kindling/core';
import { SECRET_MASK, type CursorStore } from '@kindling/sdk';
import { cursorValue, guardedCall, type FeedRepository, type ProviderRegistry } from '@kindling/host';
import type { ApiMetrics } from '../http/api-metrics.js';
import type { FeedCatalog, FeedFilter } from './feed-catalog.js';
import { validateFeedParams, type FeedSpec } from './validate-feed-params.js';

export const FEED_LIFECYCLE_EVENTS = ['CREATE', 'READ', 'UPDATE', 'DELETE', 'PAUSE', 'UNPAUSE'] as const;
export type FeedLifecycleEvent = (typeof FEED_LIFECYCLE_EVENTS)[number];

/** What every feed route answers: the stored feed, its observed status, and the provider's facts. */
export interface FeedView {
  id: string;
  namespace: string;
  trigger: string;
  provider: string;
  kind: string;
  /** The OpenWhisk name of the feed action: `/whisk.system/<provider>/<kind>`. */
  feed: string;
  /** Parameters with every declared secret masked. */
  params: Record<string, unknown>;
  desired: FeedDesiredState;
  generation: number;
  createdAt: number;
  updatedAt: number;
  status: FeedStatusView;
  /** For hook feeds: where the source must POST its events. */
  hookUrl?: string;
  /** The kind's `describe()` output (READ, CREATE and UPDATE only). */
  details?: Record<string, unknown>;
}

export interface FeedStatusView extends Omit<FeedStatusRecord, 'feedId' | 'status' | 'since' | 'generation'> {
  status: FeedStatusRecord['status'];
  since?: number;
  /** The feed generation this status describes; older than the feed's while a change is rolling out. */
  generation?: number;
}

export interface FeedServiceOptions {
  registry: ProviderRegistry;
  entities: EntityStore;
  repo: FeedRepository;
  catalog: FeedCatalog;
  log: Logger;
  publicUrl: string;
  metrics: ApiMetrics;
}

const DESCRIBE_TIMEOUT_MS = 5000;

export function feedActionName(provider: string, kind: string): string {
  return `/whisk.system/${provider}/${kind}`;
}

function withAnnotation(list: readonly KeyValue[], key: string, value: unknown): KeyValue[] {
  return [...list.filter((kv) => kv.key !== key), { key, value }];
}

function withoutAnnotation(list: readonly KeyValue[], key: string): KeyValue[] {
  return list.filter((kv) => kv.key !== key);
}

function triggerMissing(namespace: string, trigger: string): KindlingError {
  return new KindlingError('KND_NOT_FOUND', `trigger /${namespace}/${trigger} does not exist.`);
}

/**
 * The feed lifecycle as the API drives it (CREATE READ UPDATE DELETE PAUSE UNPAUSE), shared by
 * the OpenWhisk feed-action path, the one-step trigger PUT and the `/feeds` routes. It only
 * writes desired state; provider hosts reconcile the running feeds towards it.
 */
export class FeedService {
  constructor(private readonly options: FeedServiceOptions) {}

  private get repo(): FeedRepository {
    return this.options.repo;
  }

  private get triggers() {
    return this.options.entities.bucket('triggers');
  }

  /** Validates the parameters and builds a new feed record; stores nothing. */
  async prepare(namespace: string, trigger: string, spec: FeedSpec, fieldPrefix: string): Promise<FeedRecord> {
    const params = await validateFeedParams(this.options.registry, spec, fieldPrefix, this.options.log);
    const now = Date.now();
    return {
      id: randomId(),
      namespace,
      trigger,
      provider: spec.provider,
      kind: spec.kind,
      params,
      desired: 'active',
      generation: 1,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** Stores a prepared record; the trigger must already point at it. */
  async store(record: FeedRecord): Promise<void> {
    const revision = await this.repo.feeds.put(record.id, record, { previousRevision: 0 });
    // So that a list right after the create shows it.
    await this.options.catalog.reflects(revision);
    this.options.log.info({ feedId: record.id, namespace: record.namespace, trigger: record.trigger, provider: record.provider, kind: record.kind }, 'feed created');
  }

  /** Marks the trigger as fed by `record` (OpenWhisk's `feed` annotation plus Kindling's `feedId`). */
  attachTo(trigger: TriggerRecord, record: FeedRecord): TriggerRecord {
    return {
      ...trigger,
      feedId: record.id,
      annotations: withAnnotation(trigger.annotations, 'feed', feedActionName(record.provider, record.kind)),
      updated: Date.now(),
    };
  }

  async create(namespace: string, trigger: string, spec: FeedSpec, fieldPrefix: string): Promise<FeedView> {
    return this.track('CREATE', async () => {
      const record = await this.prepare(namespace, trigger, spec, fieldPrefix);
      await this.triggers.update(entityKey(namespace, trigger), (current) => {
        if (!current) throw triggerMissing(namespace, trigger);
        if (current.feedId) {
          throw new KindlingError('KND_CONFLICT', `trigger /${namespace}/${trigger} already has a feed; update it, or delete it first.`);
        }
        return this.attachTo(current, record);
      });
      try {
        await this.store(record);
      } catch (error) {
        await this.detach(namespace, trigger, record.id).catch((detachError) =>
          this.options.log.error({ feedId: record.id, err: messageOf(detachError) }, 'could not unlink a feed that failed to store'),
        );
        throw error;
      }
      return this.view(record, { describe: true });
    });
  }

  async read(namespace: string, trigger: string): Promise<FeedView> {
    return this.track('READ', async () => this.view((await this.current(namespace, trigger)).value, { describe: true }));
  }

  /** Merges `params` into the stored ones (a masked secret keeps its stored value) and validates the result. */
  async update(namespace: string, trigger: string, spec: Partial<FeedSpec>, fieldPrefix: string): Promise<FeedView> {
    return this.track('UPDATE', async () => {
      const { value: record, revision } = await this.current(namespace, trigger);
      // `params` → `provider`; `feed.params` → `feed.provider`.
      const field = (name: string) => `${fieldPrefix.replace(/params$/, '')}${name}`;
      for (const key of ['provider', 'kind'] as const) {
        if (spec[key] !== undefined && spec[key] !== record[key]) {
          throw new KindlingError('KND_VALIDATION', `'${field(key)}': a feed cannot change its ${key} (${record[key]}); delete it and create a new one.`, { field: field(key) });
        }
      }
      const changes = (spec.params ?? {}) as Record<string, unknown>;
      if (typeof changes !== 'object' || Array.isArray(changes)) {
        throw new KindlingError('KND_VALIDATION', `'${fieldPrefix || 'params'}' must be an object.`, { field: fieldPrefix || 'params' });
      }
      const merged = { ...record.params };
      for (const [key, value] of Object.entries(changes)) if (value !== SECRET_MASK) merged[key] = value;
      const params = await validateFeedParams(this.options.registry, { provider: record.provider, kind: record.kind, params: merged }, fieldPrefix, this.options.log);
      const next: FeedRecord = { ...record, params, generation: record.generation + 1, updatedAt: Date.now() };
      await this.repo.feeds.put(record.id, next, { previousRevision: revision });
      this.options.log.info({ feedId: record.id, generation: next.generation }, 'feed updated');
      return this.view(next, { describe: true });
    });
  }

  async setPaused(namespace: string, trigger: string, paused: boolean): Promise<FeedView> {
    return this.track(paused ? 'PAUSE' : 'UNPAUSE', async () => {
      const { value: record, revision } = await this.current(namespace, trigger);
      const desired: FeedDesiredState = paused ? 'paused' : 'active';
      if (record.desired === desired) return this.view(record, { describe: false });
      const next: FeedRecord = { ...record, desired, generation: record.generation + 1, updatedAt: Date.now() };
      await this.repo.feeds.put(record.id, next, { previousRevision: revision });
      this.options.log.info({ feedId: record.id, desired }, paused ? 'feed paused' : 'feed resumed');
      return this.view(next, { describe: false });
    });
  }

  /** Unlinks the feed from its trigger and asks the provider host to tear it down. */
  async delete(namespace: string, trigger: string): Promise<FeedView> {
    return this.track('DELETE', async () => {
      const { value: record } = await this.current(namespace, trigger);
      await this.detach(namespace, trigger, record.id);
      const deleted = await this.markDeleted(record.id);
      return this.view(deleted ?? { ...record, desired: 'deleted' }, { describe: false });
    });
  }

  /** Sets the desired state to `deleted`: the host that runs the feed stops it, tears it down and removes the record. */
  async markDeleted(feedId: string): Promise<FeedRecord | null> {
    const entry = await this.repo.feeds.get(feedId);
    if (!entry || entry.value.desired === 'deleted') return entry?.value ?? null;
    const { value, revision } = await this.repo.feeds.update(feedId, (current) => {
      const base = current ?? entry.value;
      return { ...base, desired: 'deleted', generation: base.generation + 1, updatedAt: Date.now() };
    });
    await this.options.catalog.reflects(revision);
    this.options.log.info({ feedId }, 'feed deletion requested');
    return value;
  }

  /** A page of a namespace's live feeds that pass `filter`, newest change first, and how many pass in all. */
  async list(namespace: string, filter: FeedFilter, page: { skip: number; limit: number }): Promise<{ feeds: FeedView[]; total: number }> {
    const { ids, total } = this.options.catalog.list(namespace, filter, page);
    const entries = await Promise.all(ids.map((id) => this.repo.feeds.get(id)));
    const records = entries.flatMap((entry) => (entry && entry.value.desired !== 'deleted' ? [entry.value] : []));
    return { feeds: await Promise.all(records.map((record) => this.view(record, { describe: false }))), total };
  }

  /** The live feed of a trigger, or a 404 that says which part is missing. */
  private async current(namespace: string, trigger: string): Promise<Versioned<FeedRecord>> {
    const triggerEntry = await this.options.entities.get('triggers', namespace, trigger);
    if (!triggerEntry) throw triggerMissing(namespace, trigger);
    const feedId = triggerEntry.value.feedId;
    if (!feedId) throw new KindlingError('KND_NOT_FOUND', `trigger /${namespace}/${trigger} has no feed.`);
    const entry = await this.repo.feeds.get(feedId);
    if (!entry || entry.value.desired === 'deleted') {
      throw new KindlingError('KND_NOT_FOUND', `the feed of trigger /${namespace}/${trigger} (${feedId}) does not exist any more.`);
    }
    return entry;
  }

  private async detach(namespace: string, trigger: string, feedId: string): Promise<void> {
    const key = entityKey(namespace, trigger);
    if (!(await this.triggers.get(key))) return;
    await this.triggers.update(key, (current) => {
      if (!current) throw triggerMissing(namespace, trigger);
      if (current.feedId !== feedId) return current;
      const { feedId: _feedId, ...rest } = current;
      return { ...rest, annotations: withoutAnnotation(current.annotations, 'feed'), updated: Date.now() };
    });
  }

  private async track<T>(event: FeedLifecycleEvent, operation: () => Promise<T>): Promise<T> {
    try {
      const result = await operation();
      this.options.metrics.feedOperations.inc({ event, outcome: 'ok' });
      return result;
    } catch (error) {
      this.options.metrics.feedOperations.inc({ event, outcome: 'error' });
      throw error;
    }
  }

  private hookUrl(record: FeedRecord): string {
    return `${this.options.publicUrl.replace(/\/$/, '')}/hooks/${record.provider}/${record.id}`;
  }

  /** Secrets masked; if this process does not know the provider, every value is masked, to be safe. */
  private maskedParams(record: FeedRecord): Record<string, unknown> {
    const { registry } = this.options;
    if (!registry.has(record.provider)) return Object.fromEntries(Object.keys(record.params).map((key) => [key, SECRET_MASK]));
    return registry.maskSecrets(record.provider, record.kind, record.params);
  }

  async view(record: FeedRecord, options: { describe: boolean }): Promise<FeedView> {
    const status = (await this.repo.statuses.get(record.id))?.value;
    const view: FeedView = {
      id: record.id,
      namespace: record.namespace,
      trigger: record.trigger,
      provider: record.provider,
      kind: record.kind,
      feed: feedActionName(record.provider, record.kind),
      params: this.maskedParams(record),
      desired: record.desired,
      generation: record.generation,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      status: status ? statusView(status) : { status: 'pending', failures: 0, fires: 0 },
    };
    const kind = this.kindOf(record);
    if (kind?.pattern === 'hook') view.hookUrl = this.hookUrl(record);
    if (options.describe && kind?.describe && record.desired !== 'deleted') view.details = await this.describe(record);
    return view;
  }

  private kindOf(record: FeedRecord) {
    try {
      return this.options.registry.kind(record.provider, record.kind);
    } catch {
      return undefined;
    }
  }

  /** The kind's `describe()`, bounded in time; a failure is reported in the details, not as an error of READ. */
  private async describe(record: FeedRecord): Promise<Record<string, unknown>> {
    const kind = this.kindOf(record);
    const describe = kind?.describe;
    if (!describe) return {};
    const abort = new AbortController();
    const cursor: CursorStore = {
      get: async <T>() => cursorValue((await this.repo.cursors.get(record.id))?.value) as T | undefined,
      set: async () => {
        throw new KindlingError('KND_INTERNAL', 'describe() may read the cursor but not change it');
      },
    };
    const log = this.options.log.child({ feedId: record.id, provider: record.provider, kind: record.kind });
    try {
      return await guardedCall(`${record.provider}/${record.kind} describe`, DESCRIBE_TIMEOUT_MS, () =>
        describe({ ...record }, { log, signal: abort.signal, cursor, hookUrl: this.hookUrl(record) }),
      );
    } catch (error) {
      const secrets = this.options.registry.secretValues(record.provider, record.kind, record.params);
      return { error: scrubSecrets(messageOf(error), secrets) };
    } finally {
      abort.abort();
    }
  }
}

function statusView(status: FeedStatusRecord): FeedStatusView {
  const { feedId: _feedId, ...rest } = status;
  return rest;
}
