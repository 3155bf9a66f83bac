import { Writable } from 'node:stream';
import {
  createLogger,
  randomId,
  silentLogger,
  type Consumption,
  type EventBus,
  type FeedRecord,
  type FeedStatusRecord,
  type KeyValueStore,
  type Logger,
} from '@kindling/core';
import type { ProviderDefinition } from '@kindling/sdk';
import { FeedHost, FeedRepository, ProviderRegistry, type FeedHostOptions } from '@kindling/host';
import { openEmbeddedBackend } from '@kindling/embedded';
import { collectEvents, type CollectEventsOptions, type CollectedEvents } from './collect-events.js';
import { eventually } from './eventually.js';

/** What a host started by the harness may set; store, bus, registry and log default to the harness's. */
export type HarnessHostOptions = Partial<FeedHostOptions>;

export interface FeedHarnessOptions {
  /** The providers the hosts run and feed parameters are validated with (or give `registry`). */
  providers?: ProviderDefinition[];
  registry?: ProviderRegistry;
  /** `embedded` (default): an in-memory embedded backend the harness opens and closes. Or a bus and store you own. */
  backend?: 'embedded' | { bus: EventBus; store: KeyValueStore };
  /**
   * The hosts' logger. Default: a debug logger whose lines the harness keeps in `logLines`
   * (to check that no secret reaches one).
   */
  log?: Logger;
  /** Options of every host the harness starts (`startHost` can override them). */
  hostOptions?: HarnessHostOptions;
  /** What `feedRecord`/`putFeed` use where the call gives none; provider and kind default to the only ones registered. */
  feedDefaults?: Partial<Pick<FeedRecord, 'namespace' | 'trigger' | 'provider' | 'kind'>>;
}

/**
 * A provider test's platform: real `FeedHost`s on a backend, feed records written to the store
 * as the API writes them (parameters validated by the kind first), statuses read back, and the
 * trigger events the feeds fire read off the bus. `close()` stops what it started.
 */
export class FeedHarness {
  readonly logLines: string[] = [];
  readonly log: Logger;
  readonly hosts: FeedHost[] = [];
  private readonly consumptions: Consumption[] = [];

  private constructor(
    readonly bus: EventBus,
    readonly store: KeyValueStore,
    readonly repo: FeedRepository,
    readonly registry: ProviderRegistry,
    private readonly options: FeedHarnessOptions,
    private readonly closeBackend: (() => Promise<void>) | undefined,
  ) {
    this.log = options.log ?? captureLines(this.logLines);
  }

  static async open(options: FeedHarnessOptions): Promise<FeedHarness> {
    const registry = options.registry ?? new ProviderRegistry(options.providers ?? []);
    const { backend = 'embedded' } = options;
    const opened = backend === 'embedded' ? await openEmbeddedBackend({ log: silentLogger() }) : undefined;
    const { bus, store } = opened ?? (backend as { bus: EventBus; store: KeyValueStore });
    return new FeedHarness(bus, store, await FeedRepository.open(store), registry, options, opened && (() => opened.close()));
  }

  /** The host started last. */
  get host(): FeedHost {
    const host = this.hosts.at(-1);
    if (!host) throw new Error('the harness has started no host');
    return host;
  }

  get namespace(): string {
    return this.options.feedDefaults?.namespace ?? 'guest';
  }

  /** Starts a provider host on the harness's backend (`options` override the harness's `hostOptions`). */
  async startHost(options: HarnessHostOptions = {}): Promise<FeedHost> {
    const host = new FeedHost({
      store: this.store,
      bus: this.bus,
      registry: this.registry,
      log: this.log,
      publicUrl: 'http://127.0.0.1:3233',
      hostId: `host-${randomId(3)}`,
      ...this.options.hostOptions,
      ...options,
    });
    await host.start();
    this.hosts.push(host);
    return host;
  }

  /** Stops `host` as a shutdown does: its feeds stop, their desired state stays. */
  async stopHost(host: FeedHost): Promise<void> {
    const index = this.hosts.indexOf(host);
    if (index >= 0) this.hosts.splice(index, 1);
    await host.stop();
  }

  /** A feed record as the API stores it after validating `params` with the kind; not stored yet. */
  async feedRecord(params: Record<string, unknown>, patch: Partial<FeedRecord> = {}): Promise<FeedRecord> {
    const defaults = this.options.feedDefaults ?? {};
    const provider = patch.provider ?? defaults.provider ?? this.only('provider', this.registry.list().map((p) => p.name));
    const kind = patch.kind ?? defaults.kind ?? this.only('kind', Object.keys(this.registry.list().find((p) => p.name === provider)?.kinds ?? {}));
    const validated = await this.registry.validateParams(provider, kind, params, { log: silentLogger(), signal: new AbortController().signal });
    const now = Date.now();
    return {
      id: randomId(8),
      namespace: this.namespace,
      trigger: defaults.trigger ?? 'events',
      provider,
      kind,
      params: validated,
      desired: 'active',
      generation: 1,
      createdAt: now,
      updatedAt: now,
      ...patch,
    };
  }

  /** Validates `params` as the API would and stores the feed (active unless `patch` says otherwise). */
  async putFeed(params: Record<string, unknown>, patch: Partial<FeedRecord> = {}): Promise<FeedRecord> {
    const record = await this.feedRecord(params, patch);
    await this.putRecord(record);
    return record;
  }

  /** Stores `record` as it is (an update, or a record the validation would refuse). */
  async putRecord(record: FeedRecord): Promise<FeedRecord> {
    await this.repo.feeds.put(record.id, record);
    return record;
  }

  async statusOf(feedId: string): Promise<FeedStatusRecord | undefined> {
    return (await this.repo.statuses.get(feedId))?.value;
  }

  /** Waits until a host has written `status` for the feed, and returns that status record. */
  async waitForStatus(feedId: string, status: FeedStatusRecord['status'], timeoutMs?: number): Promise<FeedStatusRecord> {
    return eventually(
      async () => {
        const current = await this.statusOf(feedId);
        return current?.status === status ? current : undefined;
      },
      `feed ${feedId} ${status}`,
      timeoutMs,
    );
  }

  /** Collects trigger events (default: every trigger's; a `trigger` of the harness's namespace) from the start of the stream; `close()` stops it. */
  async collectEvents<T = unknown>(options: CollectEventsOptions = {}): Promise<CollectedEvents<T>> {
    const collected = await collectEvents<T>(this.bus, { namespace: this.namespace, ...options });
    this.consumptions.push(collected.consumption);
    return collected;
  }

  /** Stops every host and collector the harness started, then the backend if the harness opened it. */
  async close(): Promise<void> {
    for (const host of this.hosts.splice(0)) await host.stop();
    for (const consumption of this.consumptions.splice(0)) await consumption.stop();
    await this.closeBackend?.();
  }

  private only(what: string, names: string[]): string {
    if (names.length !== 1) throw new Error(`the harness cannot choose a ${what} among ${names.join(', ') || 'none'}: give one in feedDefaults or the patch`);
    return names[0] as string;
  }
}

/** Opens a `FeedHarness` (see its options); start hosts with `harness.startHost()`. */
export function openFeedHarness(options: FeedHarnessOptions): Promise<FeedHarness> {
  return FeedHarness.open(options);
}

function captureLines(lines: string[]): Logger {
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return createLogger({ level: 'debug', destination });
}
