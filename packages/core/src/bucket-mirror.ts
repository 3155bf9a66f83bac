import { decodeJson } from './bus.js';
import { KindlingError, messageOf } from './errors.js';
import type { Logger } from './logger.js';
import { backoffDelay } from './backoff.js';
import type { KvBucket, KvWatch } from './store.js';

/** What a mirror tells its owner. */
export interface MirrorListener<T> {
  /** The whole bucket, replacing whatever was known: on start and after a lost watch resumes. */
  reset(entries: ReadonlyMap<string, T>): void;
  /** One key changed; `null` when it was deleted. */
  change(key: string, value: T | null): void;
}

/**
 * Keeps an in-memory copy of a JSON bucket by watching it: how a hot path (the rule engine's
 * rules and triggers, the invoker's actions) reads entities without a store round trip. When the watch fails (the store went
 * away) it is reopened with backoff, and the replay it starts with replaces the copy whole, so a
 * key deleted while the watch was down does not linger.
 */
export class BucketMirror<T> {
  private watch?: KvWatch;
  private loop?: Promise<void>;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private wakeRetry?: () => void;
  /** The highest bucket revision the copy reflects. */
  private applied = 0;
  private readonly waiters: Array<{ revision: number; resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(
    private readonly bucket: KvBucket,
    private readonly listener: MirrorListener<T>,
    private readonly log: Logger,
  ) {}

  /** Resolves once the bucket's current content has been handed to `reset`. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.loop = this.run(resolve, reject);
    });
  }

  /** Resolves once the copy reflects the bucket write that returned `revision`. */
  reflects(revision: number): Promise<void> {
    if (revision <= this.applied) return Promise.resolve();
    if (this.stopped) return Promise.reject(new KindlingError('KND_INTERNAL', `the mirror of ${this.bucket.name} is stopped`));
    return new Promise((resolve, reject) => this.waiters.push({ revision, resolve, reject }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    this.watch?.stop();
    await this.loop;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new KindlingError('KND_INTERNAL', `the mirror of ${this.bucket.name} stopped`));
  }

  private async run(ready: () => void, failStart: (error: unknown) => void): Promise<void> {
    let initialized = false;
    for (let attempt = 1; !this.stopped; ) {
      try {
        await this.follow(() => {
          attempt = 1;
          initialized = true;
          ready();
        });
        if (this.stopped) return;
        throw new Error('the watch ended');
      } catch (error) {
        if (this.stopped) return;
        // Without a first snapshot the owner cannot serve anything: let start() fail.
        if (!initialized) return failStart(error);
        const delayMs = backoffDelay(attempt++, { initialMs: 200, maxMs: 10_000 });
        this.log.warn({ bucket: this.bucket.name, err: messageOf(error), retryInMs: delayMs }, 'bucket watch lost; reopening');
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          this.retryTimer = setTimeout(resolve, delayMs);
        });
      }
    }
  }

  /** Follows one watch until it ends: replay into a fresh map, then live changes. */
  private async follow(onInitialized: () => void): Promise<void> {
    const watch = await this.bucket.watch();
    this.watch = watch;
    if (this.stopped) return watch.stop();
    let snapshot: Map<string, T> | null = new Map();
    let replayed = 0;
    for await (const change of watch) {
      if (change === 'initialized') {
        if (snapshot) this.listener.reset(snapshot);
        snapshot = null;
        this.advance(replayed);
        onInitialized();
        continue;
      }
      const value = change.value ? this.decode(change.key, change.value) : null;
      if (snapshot) {
        if (value === null) snapshot.delete(change.key);
        else snapshot.set(change.key, value);
        replayed = Math.max(replayed, change.revision);
      } else {
        this.listener.change(change.key, value);
        this.advance(change.revision);
      }
    }
  }

  private advance(revision: number): void {
    if (revision <= this.applied) return;
    this.applied = revision;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.revision <= revision) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  private decode(key: string, value: Uint8Array): T | null {
    try {
      return decodeJson<T>(value);
    } catch (error) {
      this.log.warn({ bucket: this.bucket.name, key, err: messageOf(error) }, 'entity is not JSON; ignoring it');
      return null;
    }
  }
}
