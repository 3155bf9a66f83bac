import {
  type CompleteOptions,
  FeedStoppedError,
  silentLogger,
  type CloudEvent,
  type FeedContext,
  type FeedHandle,
  type FeedInstance,
  type ProviderDefinition,
} from '@kindling/sdk';
import { createCloudEvent, type FakeClock } from '@kindling/provider-testkit';

/** A bus that keeps one event per id, as JetStream's de-duplication window does. */
export class FakeBus {
  readonly events: CloudEvent[] = [];
  publishes = 0;
  /** When set, each publish waits for it (to hold a fire in flight) or rejects with it. */
  gate: (() => Promise<void>) | undefined;
  private readonly ids = new Set<string>();

  async publish(event: CloudEvent): Promise<boolean> {
    this.publishes++;
    if (this.gate) await this.gate();
    if (this.ids.has(event.id)) return true;
    this.ids.add(event.id);
    this.events.push(event);
    return false;
  }

  /** Scheduled times of the stored events, as ISO strings. */
  times(): string[] {
    return this.events.map((e) => e.time);
  }
}

interface Running {
  handle: FeedHandle;
  abort: AbortController;
}

/**
 * The part of a provider host an alarm feed sees: a context per feed (fire, cursor, clock,
 * shared resources), start and stop. Cursors and the bus may be shared by two hosts.
 */
export class FakeFeedHost {
  readonly failures: Array<{ feedId: string; error: unknown }> = [];
  readonly completions: Array<{ feedId: string; reason: string; options: CompleteOptions }> = [];
  private readonly running = new Map<string, Running>();
  private readonly resources = new Map<string, { value: Promise<unknown>; users: Set<string>; dispose: (r: unknown) => Promise<void> }>();

  constructor(
    readonly provider: ProviderDefinition,
    readonly clock: FakeClock,
    readonly bus: FakeBus = new FakeBus(),
    readonly cursors: Map<string, unknown> = new Map(),
  ) {}

  async start(feed: { id: string; kind: string; params: Record<string, unknown>; generation?: number }): Promise<FeedHandle> {
    const kind = this.provider.kinds[feed.kind];
    if (!kind) throw new Error(`no kind ${feed.kind}`);
    const instance: FeedInstance = {
      id: feed.id,
      kind: feed.kind,
      params: feed.params,
      namespace: 'guest',
      trigger: `t-${feed.id}`,
      provider: this.provider.name,
      generation: feed.generation ?? 1,
    };
    const abort = new AbortController();
    const handle = await kind.start(instance, this.contextFor(feed.id, abort));
    this.running.set(feed.id, { handle, abort });
    return handle;
  }

  async stop(feedId: string): Promise<void> {
    const feed = this.running.get(feedId);
    if (!feed) return;
    this.running.delete(feedId);
    feed.abort.abort(new FeedStoppedError(feedId));
    await feed.handle.stop();
    await this.release(feedId);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }

  isRunning(feedId: string): boolean {
    return this.running.has(feedId);
  }

  cursorOf<T = Record<string, unknown>>(feedId: string): T | undefined {
    return this.cursors.get(feedId) as T | undefined;
  }

  private async release(feedId: string): Promise<void> {
    for (const [key, entry] of this.resources) {
      if (!entry.users.delete(feedId) || entry.users.size > 0) continue;
      this.resources.delete(key);
      await entry.dispose(await entry.value);
    }
  }

  private contextFor(feedId: string, abort: AbortController): FeedContext {
    const log = silentLogger();
    return {
      fire: async (data, options = {}) => {
        if (abort.signal.aborted) throw new FeedStoppedError(feedId);
        const event = createCloudEvent({ namespace: 'guest', trigger: `t-${feedId}`, data, id: options.id ?? 'random', ...(options.time !== undefined ? { time: options.time } : {}) });
        const duplicate = await this.bus.publish(event);
        return { event, duplicate };
      },
      cursor: {
        get: async <T>() => structuredClone(this.cursors.get(feedId)) as T | undefined,
        set: async <T>(value: T) => {
          this.cursors.set(feedId, structuredClone(value));
        },
      },
      log,
      signal: abort.signal,
      clock: this.clock,
      resources: {
        acquire: async <T>(key: string, create: () => Promise<T>, dispose: (resource: T) => Promise<void>) => {
          let entry = this.resources.get(key);
          if (!entry) {
            entry = { value: create(), users: new Set(), dispose: dispose as (r: unknown) => Promise<void> };
            this.resources.set(key, entry);
          }
          entry.users.add(feedId);
          return (await entry.value) as T;
        },
      },
      hookUrl: `http://127.0.0.1/hooks/alarms/${feedId}`,
      fail: (error) => {
        if (abort.signal.aborted) return;
        this.failures.push({ feedId, error });
        // As the host does: a failed feed is stopped.
        void this.stop(feedId);
      },
      degraded: () => undefined,
      healthy: () => undefined,
      complete: (reason, options = {}) => {
        if (abort.signal.aborted) return;
        this.completions.push({ feedId, reason, options });
        void this.stop(feedId);
      },
    };
  }
}
