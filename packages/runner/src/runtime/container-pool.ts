import { KindlingError, messageOf, type Logger } from '@kindling/core';
import { RuntimeOverloadedError, RuntimeStoppedError, specKey, type Container, type ContainerExit, type ContainerFactory, type ContainerSpec } from './container.js';
import { ContainerLogCollector } from './log-collector.js';
import { fairShare, type FairShare } from './fair-share.js';

/** Containers kept started ahead of demand, per runtime kind and memory size (OpenWhisk's stem cells). */
export interface PrewarmConfig {
  kind: string;
  memoryMb: number;
  count: number;
}

export interface ContainerPoolOptions {
  /** Total memory of all containers (busy, idle, prewarmed); a run that does not fit waits. */
  capacityMemoryMb: number;
  /** Most containers at once, whatever their memory. */
  maxContainers: number;
  prewarm: PrewarmConfig[];
  /** An idle container is paused after this long (when the backend can pause); `null`: never. */
  pauseGraceMs: number | null;
  /** An idle container is removed after this long. */
  idleTimeoutMs: number;
  /** Log cap applied before a container's first activation sets its own. */
  defaultLogLimitBytes: number;
  /** Runs that may wait for one action revision; one more is refused with {@link RuntimeOverloadedError}. */
  maxQueuedPerAction: number;
}

/** What a run asks the pool for: a container of this action revision with a free activation slot. */
export interface ActionSlotRequest {
  revision: string;
  spec: ContainerSpec;
  /** Activations one container of this revision may run at once (`limits.concurrency`). */
  concurrency: number;
}

export type ContainerState = 'starting' | 'prewarm' | 'busy' | 'idle' | 'paused' | 'draining';

/** What the pool holds, for stats and tests. */
export interface ContainerSnapshot {
  id: string | null;
  state: ContainerState;
  /** The action revision the container runs (null while prewarmed or starting for prewarm). */
  revision: string | null;
  image: string;
  memoryMb: number;
  lastUsed: number;
  /** Activations running in it now. */
  active: number;
}

/** How containers were found for activations, since the pool started. */
export interface PoolCounters {
  /** Containers started on demand for an action (spawn + `/init`). */
  coldStarts: number;
  /** Prewarmed containers handed to an action (`/init` only). */
  prewarmStarts: number;
  /** Activations served by a container its action already had. */
  warmStarts: number;
  /** Idle containers removed to make room for another action. */
  evictions: number;
  /** Runs refused because their action's queue was full. */
  rejected: number;
  /** Runs waiting for a container now. */
  queued: number;
  /** Activations holding a container now. */
  inFlight: number;
}

/** One action revision's share of the pool, now and since its first run. */
export interface ActionPoolStats {
  revision: string;
  concurrency: number;
  queued: number;
  inFlight: number;
  /** Containers it holds (starting, busy, idle, paused, draining). */
  containers: number;
  coldStarts: number;
  prewarmStarts: number;
  warmStarts: number;
}

/** A container handed out for one activation; give it back with `release` or `discard`. */
export interface ContainerLease {
  readonly container: Container;
  readonly logs: ContainerLogCollector;
  /** `/init` already succeeded in this container. */
  readonly initialized: boolean;
  /** How it was found: reused warm, taken from prewarm, or started for this run. */
  readonly origin: 'warm' | 'prewarm' | 'cold';
  /** Aborts when the container exits; its `reason` is then the {@link ContainerExit}. */
  readonly exitSignal: AbortSignal;
  /**
   * Runs `/init` once per container: the first activation's `initialize` runs, the others that
   * share a concurrent container get the same result; `succeeded` tells whether later
   * activations may skip it.
   */
  initializeOnce<T>(initialize: () => Promise<T>, succeeded: (result: T) => boolean): Promise<T>;
}

interface ActionQueue {
  readonly revision: string;
  readonly spec: ContainerSpec;
  readonly key: string;
  readonly concurrency: number;
  /** Runs waiting, first come first served. */
  readonly waiters: Waiter[];
  /** Containers bound to this revision, starting ones included. */
  readonly containers: Set<Entry>;
  starting: number;
  inFlight: number;
  coldStarts: number;
  prewarmStarts: number;
  warmStarts: number;
}

interface Entry {
  state: Exclude<ContainerState, 'draining'> | 'removing';
  /** No new activations: it is destroyed once those in it end (one of them failed the container). */
  draining: boolean;
  spec: ContainerSpec;
  key: string;
  /** The revision it serves, from the moment it starts for one or leaves prewarm. */
  queue: ActionQueue | null;
  /** Index in `prewarm` of the config this entry was started for, while it serves as a stem cell. */
  prewarmSlot: number | null;
  /** How the first activation found it; later ones are warm starts. */
  origin: 'prewarm' | 'cold';
  container: Container | null;
  logs: ContainerLogCollector | null;
  /** Listeners come and go per request, where racing `container.exited` would pile up reactions. */
  exit: AbortController;
  active: number;
  initialization: Promise<unknown> | null;
  initialized: boolean;
  lastUsed: number;
  timers: NodeJS.Timeout[];
  pausing: Promise<void> | null;
  resuming: Promise<void> | null;
  destroying: Promise<void> | null;
}

interface Waiter {
  resolve(lease: ContainerLease): void;
  reject(error: unknown): void;
}

const PREWARM_RETRY_MS = { first: 1_000, max: 60_000 };
/**
 * A revision that ran something this recently still counts as having work: between two runs of
 * a busy action its queue is empty for a moment, and taking its process then is the thrash
 * this pool exists to avoid.
 */
const RECENT_USE_MS = 1_000;

/**
 * OpenWhisk's container pool, for any {@link ContainerFactory}, with the scheduler's per-action
 * queues. Runs wait in a FIFO queue per action revision. A queue is served, in order, by a
 * container of its revision with a free activation slot (`limits.concurrency` per container);
 * then, queue by queue in round-robin order, by a prewarmed container of the same spec, by a new
 * container if capacity allows, or by a new container after evicting idle ones (least recently
 * used first) — an eviction only for a revision that holds less than its fair share of the
 * capacity, or none at all, and only of containers whose revision waits for nothing and is idle
 * or above its own share. A warm container with queued work for its revision is therefore never
 * evicted, and every revision with waiting work gets a container as soon as capacity allows.
 */
export class ContainerPool {
  private readonly entries = new Set<Entry>();
  private readonly leases = new Map<ContainerLease, Entry>();
  private readonly queues = new Map<string, ActionQueue>();
  /** The revision served last by a new container: the next one in line goes first next time. */
  private lastGrown: string | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly totals = { coldStarts: 0, prewarmStarts: 0, warmStarts: 0, evictions: 0, rejected: 0 };
  private stopped = false;
  private prewarmRetryMs = PREWARM_RETRY_MS.first;
  private prewarmRetryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly factory: ContainerFactory,
    private readonly options: ContainerPoolOptions,
    private readonly log: Logger,
  ) {}

  /** Removes orphans of an earlier run, then starts the prewarmed containers and waits for them. */
  async start(): Promise<void> {
    await this.factory.removeOrphans?.();
    this.fillPrewarm();
    await this.settled();
  }

  acquire(request: ActionSlotRequest): Promise<ContainerLease> {
    if (this.stopped) return Promise.reject(stoppedError());
    if (request.spec.memoryMb > this.options.capacityMemoryMb) {
      return Promise.reject(
        new KindlingError('KND_INTERNAL', `The action needs ${request.spec.memoryMb} MB but the runtime's capacity is ${this.options.capacityMemoryMb} MB.`),
      );
    }
    const queue = this.queueFor(request);
    if (queue.waiters.length >= this.options.maxQueuedPerAction) {
      this.totals.rejected++;
      return Promise.reject(
        new RuntimeOverloadedError(`${queue.waiters.length} runs of ${request.revision} already wait for a container (maxQueuedPerAction); try again later.`),
      );
    }
    return new Promise((resolve, reject) => {
      queue.waiters.push({ resolve, reject });
      this.dispatch();
    });
  }

  /** Gives a container back after an activation that succeeded or failed by the action's own account. */
  release(lease: ContainerLease): void {
    const entry = this.endLease(lease);
    if (!entry || entry.state === 'removing') return;
    if (this.stopped || entry.draining) {
      if (entry.active === 0) void this.remove(entry);
      return;
    }
    if (entry.active === 0) {
      entry.state = 'idle';
      entry.lastUsed = Date.now();
      this.scheduleIdle(entry);
    }
    this.dispatch();
  }

  /**
   * Gives a container back after a developer or internal error (OpenWhisk never reuses those):
   * destroyed now when nothing else runs in it, else drained first — no new activations, and
   * destroyed when the last one in it ends — so that one activation's failure costs the
   * others in a concurrent container nothing.
   */
  async discard(lease: ContainerLease): Promise<void> {
    const entry = this.endLease(lease);
    if (!entry) return;
    if (entry.active > 0 && !lease.exitSignal.aborted) {
      entry.draining = true;
      return;
    }
    await this.remove(entry);
  }

  snapshot(): ContainerSnapshot[] {
    return [...this.entries]
      .filter((entry) => entry.state !== 'removing')
      .map((entry) => ({
        id: entry.container?.id ?? null,
        state: entry.draining ? 'draining' : (entry.state as ContainerState),
        revision: entry.queue?.revision ?? null,
        image: entry.spec.image,
        memoryMb: entry.spec.memoryMb,
        lastUsed: entry.lastUsed,
        active: entry.active,
      }));
  }

  counters(): PoolCounters {
    let queued = 0;
    let inFlight = 0;
    for (const queue of this.queues.values()) {
      queued += queue.waiters.length;
      inFlight += queue.inFlight;
    }
    return { ...this.totals, queued, inFlight };
  }

  /** Per action revision that has runs waiting or in flight, or containers. */
  actions(): ActionPoolStats[] {
    return [...this.queues.values()].map((queue) => ({
      revision: queue.revision,
      concurrency: queue.concurrency,
      queued: queue.waiters.length,
      inFlight: queue.inFlight,
      containers: queue.containers.size,
      coldStarts: queue.coldStarts,
      prewarmStarts: queue.prewarmStarts,
      warmStarts: queue.warmStarts,
    }));
  }

  get queued(): number {
    return this.counters().queued;
  }

  get memoryUsedMb(): number {
    let total = 0;
    for (const entry of this.entries) if (entry.state !== 'removing') total += entry.spec.memoryMb;
    return total;
  }

  /** Destroys every container (busy ones too) and refuses further runs. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.prewarmRetryTimer) clearTimeout(this.prewarmRetryTimer);
    for (const queue of this.queues.values()) for (const waiter of queue.waiters.splice(0)) waiter.reject(stoppedError());
    await this.settled();
    await Promise.all([...this.entries].map((entry) => this.remove(entry)));
  }

  /** Waits for containers being started (tests and `start` use it). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private queueFor(request: ActionSlotRequest): ActionQueue {
    const key = specKey(request.spec);
    const id = `${request.revision}|${key}|${request.concurrency}`;
    let queue = this.queues.get(id);
    if (!queue) {
      queue = {
        revision: request.revision,
        spec: request.spec,
        key,
        concurrency: request.concurrency,
        waiters: [],
        containers: new Set(),
        starting: 0,
        inFlight: 0,
        coldStarts: 0,
        prewarmStarts: 0,
        warmStarts: 0,
      };
      this.queues.set(id, queue);
    }
    return queue;
  }

  /** A queue with nothing waiting, running or held is forgotten (revisions come and go). */
  private forgetIfUnused(queue: ActionQueue): void {
    if (queue.waiters.length > 0 || queue.inFlight > 0 || queue.containers.size > 0) return;
    for (const [id, candidate] of this.queues) if (candidate === queue) this.queues.delete(id);
  }

  private endLease(lease: ContainerLease): Entry | null {
    const entry = this.leases.get(lease);
    if (!entry) return null;
    this.leases.delete(lease);
    entry.active--;
    if (entry.queue) entry.queue.inFlight--;
    return entry;
  }

  /**
   * Serves what can be served now: every queue from its own containers first, then new
   * containers queue by queue, round-robin, while any queue can get one.
   */
  private dispatch(): void {
    if (this.stopped) return;
    // A revision holding nothing goes first: it may take a container just released by one above its share.
    for (const queue of this.roundRobin()) {
      if (queue.containers.size === 0 && queue.waiters.length > 0 && this.grow(queue)) this.lastGrown = queue.revision;
    }
    for (const queue of this.queues.values()) this.serveFromOwnContainers(queue);
    for (let grown = true; grown; ) {
      grown = false;
      for (const queue of this.roundRobin()) {
        if (!this.wantsContainer(queue) || !this.grow(queue)) continue;
        this.lastGrown = queue.revision;
        grown = true;
        break;
      }
    }
    this.fillPrewarm();
  }

  /** Queues in service order: the one after the last served first. */
  private roundRobin(): ActionQueue[] {
    const queues = [...this.queues.values()];
    const after = queues.findIndex((queue) => queue.revision === this.lastGrown) + 1;
    return [...queues.slice(after), ...queues.slice(0, after)];
  }

  /** More runs wait than the containers starting for it will take. */
  private wantsContainer(queue: ActionQueue): boolean {
    return queue.waiters.length > queue.starting * queue.concurrency;
  }

  private serveFromOwnContainers(queue: ActionQueue): void {
    while (queue.waiters.length > 0) {
      const entry = this.freeSlot(queue);
      if (!entry) return;
      this.lend(entry, queue.waiters.shift()!);
    }
  }

  /** The container of this revision to take the next activation: the fullest one with room (so that others can go idle), else the most recently used. */
  private freeSlot(queue: ActionQueue): Entry | null {
    let best: Entry | null = null;
    for (const entry of queue.containers) {
      if (entry.draining || entry.active >= queue.concurrency) continue;
      if (entry.state !== 'idle' && entry.state !== 'paused' && entry.state !== 'busy') continue;
      if (!best || entry.active > best.active || (entry.active === best.active && entry.lastUsed > best.lastUsed)) best = entry;
    }
    return best;
  }

  /** Gives the queue one more container: prewarmed, new, or new after evictions its share allows. */
  private grow(queue: ActionQueue): boolean {
    for (const entry of this.entries) {
      if (entry.state === 'prewarm' && entry.key === queue.key) {
        entry.prewarmSlot = null;
        this.bind(entry, queue);
        queue.prewarmStarts++;
        this.totals.prewarmStarts++;
        entry.state = 'idle';
        this.scheduleIdle(entry);
        this.serveFromOwnContainers(queue);
        // Replace it once the runs being served now have had their pick of the capacity.
        queueMicrotask(() => this.fillPrewarm());
        return true;
      }
    }
    if (!this.makeRoom(queue)) return false;
    queue.coldStarts++;
    this.totals.coldStarts++;
    this.startContainer(queue.spec, null, queue);
    return true;
  }

  private bind(entry: Entry, queue: ActionQueue): void {
    entry.queue = queue;
    queue.containers.add(entry);
  }

  private lend(entry: Entry, waiter: Waiter): void {
    const queue = entry.queue!;
    const wasPaused = entry.state === 'paused';
    const origin: ContainerLease['origin'] = entry.initialization ? 'warm' : entry.origin;
    if (origin === 'warm') {
      queue.warmStarts++;
      this.totals.warmStarts++;
    }
    entry.state = 'busy';
    entry.active++;
    queue.inFlight++;
    entry.lastUsed = Date.now();
    this.clearTimers(entry);
    const lease: ContainerLease = {
      container: entry.container!,
      logs: entry.logs!,
      initialized: entry.initialized,
      origin,
      exitSignal: entry.exit.signal,
      initializeOnce: <T>(initialize: () => Promise<T>, succeeded: (result: T) => boolean) => {
        entry.initialization ??= initialize().then((result) => {
          entry.initialized = succeeded(result);
          return result;
        });
        return entry.initialization as Promise<T>;
      },
    };
    this.leases.set(lease, entry);
    if (!wasPaused && !entry.resuming) {
      waiter.resolve(lease);
      return;
    }
    entry.resuming ??= (async () => {
      await entry.pausing;
      await entry.container!.resume?.();
    })();
    entry.resuming.then(
      () => {
        entry.resuming = null;
        waiter.resolve(lease);
      },
      (error: unknown) => {
        // A container that cannot be resumed is gone: serve the run from scratch.
        this.log.warn({ container: entry.container?.id, err: messageOf(error) }, 'could not resume a paused container');
        this.endLease(lease);
        void this.remove(entry);
        if (this.stopped) waiter.reject(stoppedError());
        else {
          queue.waiters.unshift(waiter);
          this.dispatch();
        }
      },
    );
  }

  /**
   * True when a container for `queue` fits now, evicting idle containers (least recently used
   * first) if that makes it fit and the queue's share allows it.
   */
  private makeRoom(queue: ActionQueue): boolean {
    const memoryMb = queue.spec.memoryMb;
    if (this.fits(memoryMb, 0, 0)) return true;
    const now = Date.now();
    const share = this.share(now);
    const starving = queue.containers.size === 0;
    if (!starving && !share.allowsOneMore(queue.containers.size, memoryMb)) return false;
    const evictable = [...this.entries]
      .filter((entry) => this.evictableFor(entry, queue, starving, share, now))
      // Warm containers go first (oldest use first); prewarmed ones only if that is not enough.
      .sort((a, b) => Number(a.state === 'prewarm') - Number(b.state === 'prewarm') || a.lastUsed - b.lastUsed);
    const chosen: Entry[] = [];
    let freedMb = 0;
    for (const entry of evictable) {
      chosen.push(entry);
      freedMb += entry.spec.memoryMb;
      if (this.fits(memoryMb, freedMb, chosen.length)) {
        for (const victim of chosen) {
          this.log.debug({ container: victim.container?.id, revision: victim.queue?.revision, for: queue.revision }, 'evicting an idle container');
          this.totals.evictions++;
          void this.remove(victim);
        }
        return true;
      }
    }
    return false;
  }

  /**
   * An idle container may go for `queue` when its revision waits for nothing and has no work,
   * or holds more than its share, or — for a revision holding no container at all — holds
   * others too, or when the revisions with work outnumber what the capacity holds. A revision
   * with waiting runs keeps its containers, except one for a revision holding none while it
   * holds more than its share and more than one (no starvation, and no ping-pong either).
   */
  private evictableFor(entry: Entry, queue: ActionQueue, starving: boolean, share: FairShare, now: number): boolean {
    if (entry.state === 'prewarm') return true;
    if ((entry.state !== 'idle' && entry.state !== 'paused') || entry.draining || entry.resuming) return false;
    const owner = entry.queue;
    if (!owner) return true;
    if (owner === queue) return false;
    const aboveShare = share.exceeded(owner.containers.size, owner.spec.memoryMb);
    // Queued work keeps its container, unless its revision holds more than its share and this one holds none.
    if (owner.waiters.length > 0) return starving && aboveShare && owner.containers.size > 1;
    if (!this.hasWork(owner, now) || aboveShare) return true;
    return starving && (owner.containers.size > 1 || share.crowded(queue.spec.memoryMb));
  }

  private hasWork(queue: ActionQueue, now: number): boolean {
    if (queue.waiters.length > 0 || queue.inFlight > 0) return true;
    for (const entry of queue.containers) if (now - entry.lastUsed < RECENT_USE_MS) return true;
    return false;
  }

  /** Each revision with work may hold an equal part of the capacity. */
  private share(now: number): FairShare {
    let active = 0;
    for (const queue of this.queues.values()) if (this.hasWork(queue, now)) active++;
    return fairShare(this.options.capacityMemoryMb, this.options.maxContainers, active);
  }

  private fits(memoryMb: number, freedMb: number, freedCount: number): boolean {
    const count = [...this.entries].filter((entry) => entry.state !== 'removing').length - freedCount;
    return this.memoryUsedMb - freedMb + memoryMb <= this.options.capacityMemoryMb && count < this.options.maxContainers;
  }

  private startContainer(spec: ContainerSpec, prewarmSlot: number | null, queue: ActionQueue | null): void {
    const entry: Entry = {
      state: 'starting',
      draining: false,
      spec,
      key: specKey(spec),
      queue: null,
      prewarmSlot,
      origin: queue ? 'cold' : 'prewarm',
      container: null,
      logs: null,
      exit: new AbortController(),
      active: 0,
      initialization: null,
      initialized: false,
      lastUsed: Date.now(),
      timers: [],
      pausing: null,
      resuming: null,
      destroying: null,
    };
    this.entries.add(entry);
    if (queue) {
      this.bind(entry, queue);
      queue.starting++;
    }
    const creation = this.factory.create(spec).then(
      (container) => {
        if (queue) queue.starting--;
        entry.container = container;
        entry.logs = new ContainerLogCollector(container.stdout, container.stderr, this.options.defaultLogLimitBytes);
        void container.exited.then(
          (exit) => this.onExit(entry, exit),
          () => this.onExit(entry, { code: null, signal: null, oomKilled: false }),
        );
        if (this.stopped || entry.state === 'removing') {
          void this.remove(entry);
          return;
        }
        if (prewarmSlot !== null) this.prewarmRetryMs = PREWARM_RETRY_MS.first;
        entry.state = queue ? 'idle' : 'prewarm';
        if (queue) {
          this.scheduleIdle(entry);
          // The runs it was started for come before anyone's claim on it.
          this.serveFromOwnContainers(queue);
        }
        this.dispatch();
      },
      (error: unknown) => {
        this.entries.delete(entry);
        if (queue) {
          queue.starting--;
          queue.containers.delete(entry);
          // The runs this container was for learn why; the next ones try again.
          for (const waiter of queue.waiters.splice(0, queue.concurrency)) waiter.reject(error);
          this.forgetIfUnused(queue);
        } else this.prewarmFailed(spec, error);
        this.dispatch();
      },
    );
    this.track(creation);
  }

  private prewarmFailed(spec: ContainerSpec, error: unknown): void {
    this.log.warn({ image: spec.image, memoryMb: spec.memoryMb, err: messageOf(error), retryInMs: this.prewarmRetryMs }, 'could not start a prewarmed container');
    if (this.stopped || this.prewarmRetryTimer) return;
    this.prewarmRetryTimer = setTimeout(() => {
      this.prewarmRetryTimer = null;
      this.fillPrewarm();
    }, this.prewarmRetryMs);
    this.prewarmRetryTimer.unref();
    this.prewarmRetryMs = Math.min(this.prewarmRetryMs * 2, PREWARM_RETRY_MS.max);
  }

  /** Starts prewarmed containers missing from the configured counts, if nobody waits and they fit without eviction. */
  private fillPrewarm(): void {
    if (this.stopped || this.prewarmRetryTimer) return;
    for (const queue of this.queues.values()) if (queue.waiters.length > 0) return;
    this.options.prewarm.forEach((config, slot) => {
      let have = 0;
      for (const entry of this.entries) if (entry.prewarmSlot === slot && entry.state !== 'removing') have++;
      for (; have < config.count; have++) {
        const spec = this.factory.specForKind(config.kind, config.memoryMb);
        if (!this.fits(spec.memoryMb, 0, 0)) return;
        this.startContainer(spec, slot, null);
      }
    });
  }

  private scheduleIdle(entry: Entry): void {
    const { pauseGraceMs, idleTimeoutMs } = this.options;
    const container = entry.container!;
    if (pauseGraceMs !== null && container.pause && pauseGraceMs < idleTimeoutMs) {
      entry.timers.push(
        setTimeout(() => {
          if (entry.state !== 'idle') return;
          entry.state = 'paused';
          entry.pausing = container.pause!().catch((error: unknown) => {
            this.log.warn({ container: container.id, err: messageOf(error) }, 'could not pause an idle container');
            if (entry.state === 'paused') void this.remove(entry);
          });
        }, pauseGraceMs),
      );
    }
    entry.timers.push(
      setTimeout(() => {
        if (entry.state === 'idle' || entry.state === 'paused') void this.remove(entry);
      }, idleTimeoutMs),
    );
    for (const timer of entry.timers) timer.unref();
  }

  private clearTimers(entry: Entry): void {
    for (const timer of entry.timers) clearTimeout(timer);
    entry.timers = [];
  }

  /** A container that stops on its own while not in use leaves the pool. */
  private onExit(entry: Entry, exit: ContainerExit): void {
    entry.exit.abort(exit);
    if (entry.state === 'idle' || entry.state === 'paused' || entry.state === 'prewarm') {
      this.log.info({ container: entry.container?.id, revision: entry.queue?.revision }, 'an idle container exited');
      void this.remove(entry);
    }
  }

  private async remove(entry: Entry): Promise<void> {
    entry.state = 'removing';
    this.clearTimers(entry);
    if (entry.container && !entry.destroying) {
      const container = entry.container;
      entry.destroying = container.destroy().catch((error: unknown) => {
        this.log.warn({ container: container.id, err: messageOf(error) }, 'could not destroy a container');
      });
      this.track(entry.destroying);
    }
    // An entry still starting stays listed until its creation settles, which removes it then.
    if (entry.container) {
      this.entries.delete(entry);
      if (entry.queue) {
        entry.queue.containers.delete(entry);
        this.forgetIfUnused(entry.queue);
      }
    }
    await entry.destroying;
    this.dispatch();
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }
}

function stoppedError(): RuntimeStoppedError {
  return new RuntimeStoppedError('The action runtime is stopping.');
}
