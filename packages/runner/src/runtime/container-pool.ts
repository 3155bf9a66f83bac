import { KindlingError, messageOf, type Logger } from '@kindling/core';
import { RuntimeStoppedError, specKey, type Container, type ContainerExit, type ContainerFactory, type ContainerSpec } from './container.js';
import { ContainerLogCollector } from './log-collector.js';

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
}

export type ContainerState = 'starting' | 'prewarm' | 'busy' | 'idle' | 'paused';

/** What the pool holds, for stats and tests. */
export interface ContainerSnapshot {
  id: string | null;
  state: ContainerState;
  /** The action revision the container runs (null while prewarmed or starting for prewarm). */
  revision: string | null;
  image: string;
  memoryMb: number;
  lastUsed: number;
}

/** A container handed out for one activation; give it back with `release` or `discard`. */
export interface ContainerLease {
  readonly container: Container;
  readonly logs: ContainerLogCollector;
  /** `/init` already ran in this container for the lease's revision. */
  readonly initialized: boolean;
  /** How it was found: reused warm, taken from prewarm, or started for this run. */
  readonly origin: 'warm' | 'prewarm' | 'cold';
  /** Aborts when the container exits; its `reason` is then the {@link ContainerExit}. */
  readonly exitSignal: AbortSignal;
}

interface Entry {
  state: ContainerState | 'removing';
  spec: ContainerSpec;
  key: string;
  revision: string | null;
  /** Index in `prewarm` of the config this entry was started for, while it serves as a stem cell. */
  prewarmSlot: number | null;
  container: Container | null;
  logs: ContainerLogCollector | null;
  /** Listeners come and go per request, where racing `container.exited` would pile up reactions. */
  exit: AbortController;
  lastUsed: number;
  timers: NodeJS.Timeout[];
  pausing: Promise<void> | null;
  destroying: Promise<void> | null;
}

interface Waiter {
  revision: string;
  spec: ContainerSpec;
  key: string;
  resolve(lease: ContainerLease): void;
  reject(error: unknown): void;
}

const PREWARM_RETRY_MS = { first: 1_000, max: 60_000 };

/**
 * OpenWhisk's container pool, for any {@link ContainerFactory}. A run takes, in order: an idle
 * warm container of the same action revision; a prewarmed one of the same spec (a replacement
 * is then started); a new one if capacity allows, after evicting idle containers least
 * recently used first when needed; otherwise it waits in line. Idle containers are paused after
 * a grace period and removed after an idle timeout.
 */
export class ContainerPool {
  private readonly entries = new Set<Entry>();
  private readonly leases = new Map<ContainerLease, Entry>();
  private waiters: Waiter[] = [];
  private readonly pending = new Set<Promise<unknown>>();
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

  acquire(revision: string, spec: ContainerSpec): Promise<ContainerLease> {
    if (this.stopped) return Promise.reject(stoppedError());
    if (spec.memoryMb > this.options.capacityMemoryMb) {
      return Promise.reject(
        new KindlingError('KND_INTERNAL', `The action needs ${spec.memoryMb} MB but the runtime's capacity is ${this.options.capacityMemoryMb} MB.`),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { revision, spec, key: specKey(spec), resolve, reject };
      if (!this.tryServe(waiter)) this.waiters.push(waiter);
    });
  }

  /** Gives a container back after an activation that succeeded or failed by the action's own account. */
  release(lease: ContainerLease, revision: string): void {
    const entry = this.leases.get(lease);
    if (!entry) return;
    this.leases.delete(lease);
    if (this.stopped) {
      void this.remove(entry);
      return;
    }
    entry.state = 'idle';
    entry.revision = revision;
    entry.lastUsed = Date.now();
    this.scheduleIdle(entry);
    this.pump();
  }

  /** Destroys a container after a developer or internal error (OpenWhisk never reuses those). */
  async discard(lease: ContainerLease): Promise<void> {
    const entry = this.leases.get(lease);
    if (!entry) return;
    this.leases.delete(lease);
    await this.remove(entry);
  }

  snapshot(): ContainerSnapshot[] {
    return [...this.entries]
      .filter((entry) => entry.state !== 'removing')
      .map((entry) => ({
        id: entry.container?.id ?? null,
        state: entry.state as ContainerState,
        revision: entry.revision,
        image: entry.spec.image,
        memoryMb: entry.spec.memoryMb,
        lastUsed: entry.lastUsed,
      }));
  }

  get queued(): number {
    return this.waiters.length;
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
    for (const waiter of this.waiters.splice(0)) waiter.reject(stoppedError());
    await this.settled();
    await Promise.all([...this.entries].map((entry) => this.remove(entry)));
  }

  /** Waits for containers being started (tests and `start` use it). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private tryServe(waiter: Waiter): boolean {
    let warm: Entry | null = null;
    for (const entry of this.entries) {
      if ((entry.state === 'idle' || entry.state === 'paused') && entry.revision === waiter.revision && entry.key === waiter.key) {
        if (!warm || entry.lastUsed > warm.lastUsed) warm = entry;
      }
    }
    if (warm) {
      this.lend(warm, waiter, 'warm');
      return true;
    }
    for (const entry of this.entries) {
      if (entry.state === 'prewarm' && entry.key === waiter.key) {
        entry.prewarmSlot = null;
        this.lend(entry, waiter, 'prewarm');
        // Replace it once the runs being served now have had their pick of the capacity.
        queueMicrotask(() => this.fillPrewarm());
        return true;
      }
    }
    if (!this.makeRoom(waiter.spec.memoryMb)) return false;
    this.startContainer(waiter.spec, null, waiter);
    return true;
  }

  private lend(entry: Entry, waiter: Waiter, origin: ContainerLease['origin']): void {
    const wasPaused = entry.state === 'paused';
    const initialized = origin === 'warm';
    entry.state = 'busy';
    entry.revision = waiter.revision;
    entry.lastUsed = Date.now();
    this.clearTimers(entry);
    const lease: ContainerLease = { container: entry.container!, logs: entry.logs!, initialized, origin, exitSignal: entry.exit.signal };
    this.leases.set(lease, entry);
    if (!wasPaused) {
      waiter.resolve(lease);
      return;
    }
    const resumed = (async () => {
      await entry.pausing;
      await entry.container!.resume?.();
    })();
    resumed.then(
      () => waiter.resolve(lease),
      (error: unknown) => {
        // A container that cannot be resumed is gone: serve the run from scratch.
        this.log.warn({ container: entry.container?.id, err: messageOf(error) }, 'could not resume a paused container');
        this.leases.delete(lease);
        void this.remove(entry);
        if (!this.tryServe(waiter)) this.waiters.unshift(waiter);
      },
    );
  }

  /** True when a container of `memoryMb` fits now, evicting idle containers (least recently used first) if that makes it fit. */
  private makeRoom(memoryMb: number): boolean {
    if (this.fits(memoryMb, 0, 0)) return true;
    const evictable = [...this.entries]
      .filter((entry) => entry.state === 'idle' || entry.state === 'paused' || entry.state === 'prewarm')
      // Warm containers go first (oldest use first); prewarmed ones only if that is not enough.
      .sort((a, b) => Number(a.state === 'prewarm') - Number(b.state === 'prewarm') || a.lastUsed - b.lastUsed);
    const chosen: Entry[] = [];
    let freedMb = 0;
    for (const entry of evictable) {
      chosen.push(entry);
      freedMb += entry.spec.memoryMb;
      if (this.fits(memoryMb, freedMb, chosen.length)) {
        for (const victim of chosen) {
          this.log.debug({ container: victim.container?.id, revision: victim.revision }, 'evicting an idle container');
          void this.remove(victim);
        }
        return true;
      }
    }
    return false;
  }

  private fits(memoryMb: number, freedMb: number, freedCount: number): boolean {
    const count = [...this.entries].filter((entry) => entry.state !== 'removing').length - freedCount;
    return this.memoryUsedMb - freedMb + memoryMb <= this.options.capacityMemoryMb && count < this.options.maxContainers;
  }

  private startContainer(spec: ContainerSpec, prewarmSlot: number | null, waiter: Waiter | null): void {
    const entry: Entry = {
      state: 'starting',
      spec,
      key: specKey(spec),
      revision: waiter?.revision ?? null,
      prewarmSlot,
      container: null,
      logs: null,
      exit: new AbortController(),
      lastUsed: Date.now(),
      timers: [],
      pausing: null,
      destroying: null,
    };
    this.entries.add(entry);
    const creation = this.factory.create(spec).then(
      (container) => {
        entry.container = container;
        entry.logs = new ContainerLogCollector(container.stdout, container.stderr, this.options.defaultLogLimitBytes);
        void container.exited.then(
          (exit) => this.onExit(entry, exit),
          () => this.onExit(entry, { code: null, signal: null, oomKilled: false }),
        );
        if (this.stopped || entry.state === 'removing') {
          void this.remove(entry);
          waiter?.reject(stoppedError());
          return;
        }
        if (prewarmSlot !== null) this.prewarmRetryMs = PREWARM_RETRY_MS.first;
        if (waiter) {
          this.lend(entry, waiter, 'cold');
        } else {
          entry.state = 'prewarm';
          this.pump();
        }
      },
      (error: unknown) => {
        this.entries.delete(entry);
        if (waiter) waiter.reject(error);
        else this.prewarmFailed(spec, error);
        this.pump();
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
    if (this.stopped || this.prewarmRetryTimer || this.waiters.length > 0) return;
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

  /** Serves waiting runs that can be served now, in arrival order. */
  private pump(): void {
    if (this.stopped) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) if (!this.tryServe(waiter)) this.waiters.push(waiter);
    this.fillPrewarm();
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
      this.log.info({ container: entry.container?.id, revision: entry.revision }, 'an idle container exited');
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
    if (entry.container) this.entries.delete(entry);
    await entry.destroying;
    this.pump();
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }
}

function stoppedError(): RuntimeStoppedError {
  return new RuntimeStoppedError('The action runtime is stopping.');
}
