import { KindlingError, messageOf, randomId, type CloudEvent, type FeedRecord, type FeedStatusName } from '@kindling/core';
import type { FeedInstance, HookResponse } from '@kindling/sdk';
import { FeedHost, FeedRepository, ProviderRegistry } from '@kindling/host';
import { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import type { ResolvedOptions, SourceContext } from './conformance-options.js';
import { FakeClock, settle, type PendingTimer } from './fake-clock.js';
import { FaultyBus, type PublishRecord } from './faulty-bus.js';
import { FaultyStore } from './faulty-store.js';
import { FeedObserver, type FeedPhase, type FireAttempt } from './feed-observer.js';
import { instrumentProvider } from './instrument-provider.js';
import type { LogCapture } from './log-capture.js';
import type { LiveResource, ResourceTracker } from './resource-tracker.js';
import type { RuleId } from './rules.js';

/** What every scenario of one run shares. */
export interface RunContext {
  options: ResolvedOptions;
  /** The feed parameters as the kind validated them. */
  params: Record<string, unknown>;
  tracker: ResourceTracker;
  logs: LogCapture;
  /** Every token the run's sources produced, in order: events of earlier scenarios are not new. */
  tokens: string[];
}

/** Ends a scenario early: what it waited for did not happen, which breaks `rule`. */
export class ScenarioHalt extends Error {
  constructor(
    readonly rule: RuleId,
    message: string,
  ) {
    super(message);
    this.name = 'ScenarioHalt';
  }
}

/** What was left open after the feed was deleted and its host stopped. */
export interface Leftovers {
  /** Clock timers of stopped instances: the clock moves only when driven, so these never end by themselves. */
  fakeTimers: Array<{ at: number; createdAt: string }>;
  /** Real timers and handles still open: some close by themselves soon (a keep-alive socket); the run judges them later. */
  resources: LiveResource[];
}

const TRIGGER = 'conformance';
const NAMESPACE = 'guest';
const realDelay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One scenario's world: a real `FeedHost` on the in-memory embedded backend, behind a bus and a
 * store that fail on demand, on a fake clock, running the instrumented provider. The kit plays the
 * API (it writes feed records as CREATE, PAUSE, UNPAUSE and DELETE do) and the source (through
 * the author's adapter), and drives time.
 */
export class ConformanceHarness {
  readonly clock: FakeClock;
  readonly bus: FaultyBus;
  readonly store: FaultyStore;
  readonly observer: FeedObserver;
  feed: FeedRecord | undefined;
  private host: FeedHost | undefined;
  private hosts = 0;
  private phase: FeedPhase = 'active';
  private removed = false;
  private readonly registry: ProviderRegistry;
  private readonly leakedFakeTimers = new Map<number, PendingTimer>();
  private readonly ranTimers = new Set<number>();
  private readonly timerChecks = new Set<Promise<void>>();

  private constructor(
    private readonly run: RunContext,
    readonly scenario: string,
    private readonly backend: EmbeddedBackend,
    private readonly repo: FeedRepository,
  ) {
    this.clock = new FakeClock(run.options.clockStart ?? Date.now(), {
      ownerOf: () => run.tracker.currentOwner(),
      recordStacks: true,
      onRun: (timer) => this.ranTimers.add(timer.id),
    });
    this.bus = new FaultyBus(backend.bus);
    this.store = new FaultyStore(backend.store);
    this.observer = new FeedObserver(
      () => this.phase,
      (_instance, owner) => void this.checkClockTimersOf(owner),
    );
    this.registry = new ProviderRegistry([instrumentProvider(run.options.provider, this.observer, run.tracker)]);
  }

  static async open(run: RunContext, scenario: string): Promise<ConformanceHarness> {
    const backend = await openEmbeddedBackend({ log: run.logs.logger.child({ scenario, part: 'backend' }) });
    const repo = await FeedRepository.open(backend.store);
    return new ConformanceHarness(run, scenario, backend, repo);
  }

  private get options(): ResolvedOptions {
    return this.run.options;
  }

  // --- the provider host ---

  async startHost(): Promise<void> {
    const host = new FeedHost({
      store: this.store,
      bus: this.bus,
      registry: this.registry,
      log: this.run.logs.logger.child({ scenario: this.scenario, role: 'providers' }),
      publicUrl: this.options.publicUrl,
      clock: this.clock,
      hostId: `kit-${this.scenario}-${++this.hosts}`,
      maxFailures: 5,
      backoff: { initialMs: 1000, maxMs: 10_000, jitter: 0 },
      callTimeoutMs: this.options.stopDeadlineMs,
    });
    await host.start();
    this.host = host;
    if (this.feed) this.phase = this.feed.desired === 'deleted' ? 'deleted' : this.feed.desired;
  }

  /** Stops the host as a shutdown or a crash-free restart does: feeds stop, their desired state stays. */
  async stopHost(): Promise<void> {
    const host = this.host;
    if (!host) return;
    this.host = undefined;
    if (this.phase === 'active' || this.phase === 'paused') this.phase = 'host-down';
    await host.stop();
  }

  // --- the feed, as the API writes it ---

  async createFeed(): Promise<FeedRecord> {
    const now = Date.now();
    const record: FeedRecord = {
      id: `kit${randomId(6)}`,
      namespace: NAMESPACE,
      trigger: TRIGGER,
      provider: this.options.provider.name,
      kind: this.options.kind,
      params: this.run.params,
      desired: 'active',
      generation: 1,
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.feeds.put(record.id, record);
    this.feed = record;
    if (this.host) this.phase = 'active';
    return record;
  }

  async pause(): Promise<void> {
    await this.setDesired('paused');
  }

  async resume(): Promise<void> {
    await this.setDesired('active');
  }

  async deleteFeed(): Promise<void> {
    await this.setDesired('deleted');
  }

  private async setDesired(desired: FeedRecord['desired']): Promise<void> {
    const feed = this.requireFeed();
    const next: FeedRecord = { ...feed, desired, generation: feed.generation + 1, updatedAt: Date.now() };
    // The phase changes before the host can act on the record: a fire after this is judged by it.
    this.phase = desired === 'deleted' ? 'deleted' : this.host ? desired : 'host-down';
    await this.repo.feeds.put(next.id, next);
    this.feed = next;
  }

  private requireFeed(): FeedRecord {
    if (!this.feed) throw new Error('the scenario has created no feed');
    return this.feed;
  }

  // --- waiting for the host ---

  async statusOf(): Promise<{ status: FeedStatusName; reason?: string } | undefined> {
    if (!this.feed) return undefined;
    return (await this.repo.statuses.get(this.feed.id))?.value;
  }

  /** Waits for the feed's status; a timeout halts the scenario with a finding of `rule`. */
  async waitStatus(status: FeedStatusName, rule: RuleId, what: string): Promise<void> {
    const generation = this.requireFeed().generation;
    const deadline = Date.now() + this.options.eventTimeoutMs + this.options.stopDeadlineMs;
    for (;;) {
      const current = this.feed ? (await this.repo.statuses.get(this.feed.id))?.value : undefined;
      // Written by the host running now: after a restart, the old host's status does not count.
      if (current?.status === status && current.generation === generation && current.host === this.host?.hostId) return;
      if (Date.now() > deadline) {
        const seen = current ? `${current.status}${current.reason ? ` (${current.reason})` : ''}` : 'no status';
        throw new ScenarioHalt(rule, `${what}: the feed did not become ${status} within ${this.options.eventTimeoutMs + this.options.stopDeadlineMs} ms; its status is ${seen}`);
      }
      await realDelay(10);
    }
  }

  /** Waits for the feed to run, and for its start-up work (a first poll, a subscription) to settle. */
  async waitActive(what: string): Promise<void> {
    await this.waitStatus('active', 'KIT_DOES_NOT_FIRE', what);
    await this.waitIdle();
  }

  async waitRemoved(): Promise<void> {
    const feed = this.requireFeed();
    const deadline = Date.now() + this.options.eventTimeoutMs + this.options.stopDeadlineMs;
    while ((await this.repo.feeds.get(feed.id)) !== null) {
      if (Date.now() > deadline) throw new ScenarioHalt('KIT_IGNORES_ABORT', 'DELETE: the host did not finish deleting the feed (stop and teardown) in time');
      await realDelay(10);
    }
    this.removed = true;
  }

  // --- the source ---

  /** Asks the source for a new event; returns the token the event carries. */
  async emit(): Promise<string> {
    const token = `kit-${randomId(5)}`;
    let returned: string | void;
    try {
      returned = await this.run.tracker.outside(() => this.options.source.emit(this.sourceContext(token)));
    } catch (error) {
      throw new KindlingError('KND_INTERNAL', `the source adapter's emit() failed: ${messageOf(error)}`, { cause: error });
    }
    const carried = typeof returned === 'string' && returned.length > 0 ? returned : token;
    this.run.tokens.push(carried);
    return carried;
  }

  async redeliver(token: string): Promise<boolean> {
    const redeliver = this.options.source.redeliver;
    if (!redeliver) return false;
    try {
      await this.run.tracker.outside(() => redeliver(token, this.sourceContext(token)));
    } catch (error) {
      throw new KindlingError('KND_INTERNAL', `the source adapter's redeliver() failed: ${messageOf(error)}`, { cause: error });
    }
    return true;
  }

  private sourceContext(token: string): SourceContext {
    const feed = this.requireFeed();
    const instance: FeedInstance<Record<string, unknown>> = {
      id: feed.id,
      namespace: feed.namespace,
      trigger: feed.trigger,
      provider: feed.provider,
      kind: feed.kind,
      params: feed.params,
      generation: feed.generation,
    };
    return { clock: this.clock, feed: instance, token, hook: (request) => this.postHook(request) };
  }

  private async postHook(request: Parameters<SourceContext['hook']>[0]): Promise<HookResponse> {
    const feed = this.requireFeed();
    const host = this.host;
    if (!host) return { status: 503, body: { error: 'no provider host is running' } };
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.from(typeof request.body === 'string' ? request.body : JSON.stringify(request.body));
    const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    try {
      return await host.dispatchHook(feed.provider, feed.id, { headers, body, query: request.query ?? {} });
    } catch (error) {
      // As the API answers: a coded error keeps its status, anything else asks the sender to retry.
      const status = error instanceof KindlingError ? error.status : 503;
      return { status, body: { error: messageOf(error) } };
    }
  }

  // --- what happened ---

  carries(event: CloudEvent | Record<string, unknown>, token: string): boolean {
    return this.options.source.carries(event, token);
  }

  /** Events stored on the bus (not absorbed as duplicates) that carry `token`. */
  stored(token: string): PublishRecord[] {
    return this.bus.publishes.filter((p) => p.outcome === 'stored' && this.carries(p.event, token));
  }

  /** Fire calls that carry `token`, from the `from`-th call on. */
  attempts(token: string, from = 0): FireAttempt[] {
    return this.observer.fires.slice(from).filter((fire) => this.carries(fire.preview, token));
  }

  /** Whether an event is new to this run: it carries no token emitted before this call. */
  newEventFilter(): (event: CloudEvent) => boolean {
    const earlier = [...this.run.tokens];
    return (event) => !earlier.some((token) => this.carries(event, token));
  }

  // --- driving time ---

  /** One turn of the event loop with a little real time, for I/O (a socket, an HTTP poll) to progress. */
  private async ioTurn(): Promise<void> {
    await settle(4);
    await realDelay(5);
  }

  /**
   * Runs the world until `until` holds: lets I/O progress and, when nothing else moves, advances
   * the fake clock to its next timer (a poll interval, an alarm, a retry backoff). False when it
   * did not hold within the event timeout.
   */
  async drive(until: () => boolean | Promise<boolean>): Promise<boolean> {
    const deadline = Date.now() + this.options.eventTimeoutMs;
    for (;;) {
      await this.ioTurn();
      if (await until()) return true;
      if (Date.now() > deadline) return false;
      if (this.clock.nextDueAt() !== undefined) await this.clock.runNext();
      else await realDelay(10);
    }
  }

  /**
   * A window in which the test expects nothing (paused, deleted): at least `quietMs` of real time
   * and up to `steps` of the clock's timers, so that a poll or a timer that should not fire would.
   */
  async quiet(steps = 5): Promise<void> {
    const until = Date.now() + this.options.quietMs;
    let left = steps;
    while (Date.now() < until || (left > 0 && this.clock.nextDueAt() !== undefined)) {
      await this.ioTurn();
      if (left > 0 && this.clock.nextDueAt() !== undefined) {
        left--;
        await this.clock.runNext();
      }
    }
  }

  /** Waits until no fire, publish or cursor write is in flight (three turns in a row). */
  async quiesce(): Promise<void> {
    const deadline = Date.now() + this.options.eventTimeoutMs;
    let calm = 0;
    while (calm < 3 && Date.now() < deadline) {
      await this.ioTurn();
      const busy = this.observer.firesInFlight > 0 || this.bus.pending > 0 || this.store.pendingWrites > 0;
      calm = busy ? 0 : calm + 1;
    }
  }

  /**
   * Waits for the feed's start-up work to settle: until it waits on the clock (a poll loop asleep)
   * with nothing in flight, or `quietMs` has passed (a subscription, which waits on no timer).
   */
  async waitIdle(): Promise<void> {
    const until = Date.now() + this.options.quietMs;
    while (Date.now() < until) {
      await this.ioTurn();
      const waitsOnClock = this.clock.pending().some((timer) => timer.owner !== undefined);
      const busy = this.observer.firesInFlight > 0 || this.bus.pending > 0 || this.store.pendingWrites > 0;
      if (waitsOnClock && !busy) return;
    }
  }

  /**
   * A clock timer that a stopped instance set is a leak if it is still pending once the host has
   * finished stopping the feed (shared resources, such as a timer queue, are disposed just after
   * stop returns), or if it ran meanwhile.
   */
  private checkClockTimersOf(owner: string): Promise<void> {
    const candidates = this.clock.pending().filter((timer) => timer.owner === owner);
    if (candidates.length === 0) return Promise.resolve();
    const check = settle().then(() => {
      const pending = new Set(this.clock.pending().map((timer) => timer.id));
      for (const timer of candidates) if (pending.has(timer.id) || this.ranTimers.has(timer.id)) this.leakedFakeTimers.set(timer.id, timer);
    });
    this.timerChecks.add(check);
    return check.finally(() => this.timerChecks.delete(check));
  }

  // --- the end ---

  /**
   * Deletes the feed if the scenario did not (so that teardown removes what it made at the
   * source), stops the host, closes the backend, and returns what the provider left open.
   */
  async finish(): Promise<Leftovers> {
    try {
      if (this.feed && !this.removed) {
        if (!this.host) await this.startHost();
        if (this.feed.desired !== 'deleted') await this.deleteFeed();
        await this.waitRemoved().catch(() => undefined);
      }
      await this.stopHost();
      return await this.leftovers();
    } finally {
      await this.backend.close();
    }
  }

  private async leftovers(): Promise<Leftovers> {
    await Promise.all([...this.timerChecks]);
    const feedId = this.feed?.id;
    const ours = (owner: unknown) => typeof owner === 'string' && feedId !== undefined && owner.startsWith(`${feedId}#`);
    const resources = this.run.tracker.liveResources().filter((r) => ours(r.owner));
    for (const timer of this.clock.pending()) if (ours(timer.owner)) this.leakedFakeTimers.set(timer.id, timer);
    const fakeTimers = [...this.leakedFakeTimers.values()].map(({ at, createdAt }) => ({ at, createdAt }));
    return { fakeTimers, resources };
  }
}
