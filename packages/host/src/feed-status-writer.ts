import { type FeedRecord, type FeedStatusName, type FeedStatusRecord, type JsonBucket, type Logger, messageOf } from '@kindling/core';

export interface StatusPatch {
  failures?: number;
  reason?: string;
  retryAt?: number;
}

interface PendingStatus {
  status?: { name: FeedStatusName; at: number; generation: number; patch: StatusPatch };
  fires: number;
  lastFireAt?: number;
}

const FLUSH_CONCURRENCY = 256;

/**
 * The statuses and fire counts of the feeds a host runs, written in batches: changes are kept in
 * memory and each flush writes every changed feed once (a status change and any number of fires
 * become one read-modify-write). Fire counts wait for the interval, so a host with 100,000 feeds
 * firing now and then writes each at most once per interval, and an idle one writes nothing.
 */
export class FeedStatusWriter {
  private pending = new Map<string, PendingStatus>();
  /** The batch being written: still "current" until its writes land. */
  private inFlight = new Map<string, PendingStatus>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private flushQueued = false;

  constructor(
    private readonly statuses: JsonBucket<FeedStatusRecord>,
    private readonly hostId: string,
    private readonly log: Logger,
    /** False for a feed whose partition this host no longer holds: its changes are dropped. */
    private readonly mayWrite: (feedId: string) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  start(flushEveryMs: number): void {
    this.timer = setInterval(() => void this.flush(), flushEveryMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /**
   * Records the feed's new status. It is written soon (with every other change made meanwhile, in
   * one flush once the flush under way is done), unlike fire counts, which wait for the interval.
   */
  set(record: FeedRecord, name: FeedStatusName, patch: StatusPatch = {}): void {
    const pending = this.entry(record.id);
    pending.status = { name, at: this.now(), generation: record.generation, patch };
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      void this.flush();
    });
  }

  fired(feedId: string, duplicate: boolean): void {
    const pending = this.entry(feedId);
    if (!duplicate) pending.fires++;
    pending.lastFireAt = this.now();
  }

  /** The feed's status as it will be once flushed: the stored one with the pending change over it. */
  async current(feedId: string): Promise<FeedStatusRecord | undefined> {
    let status = (await this.statuses.get(feedId))?.value;
    for (const changes of [this.inFlight, this.pending]) {
      const pending = changes.get(feedId);
      if (pending) status = this.apply(feedId, status ?? null, pending);
    }
    return status;
  }

  /** Drops what is pending for a feed being removed; resolves once no write of it is in flight. */
  async forget(feedId: string): Promise<void> {
    this.pending.delete(feedId);
    await this.flushing;
  }

  /** Writes every pending change (after the flush already running, if any). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private entry(feedId: string): PendingStatus {
    let pending = this.pending.get(feedId);
    if (!pending) {
      pending = { fires: 0 };
      this.pending.set(feedId, pending);
    }
    return pending;
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    this.inFlight = this.pending;
    this.pending = new Map();
    const batch = [...this.inFlight].filter(([feedId]) => this.mayWrite(feedId));
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const [feedId, pending] = batch[next++]!;
        try {
          await this.statuses.update(feedId, (previous) => this.apply(feedId, previous, pending));
        } catch (error) {
          this.log.warn({ feedId, err: messageOf(error) }, 'writing a feed status failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(FLUSH_CONCURRENCY, batch.length) }, worker));
    this.inFlight = new Map();
  }

  private apply(feedId: string, previous: FeedStatusRecord | null, pending: PendingStatus): FeedStatusRecord {
    const base: FeedStatusRecord = previous ?? { feedId, status: 'active', since: this.now(), failures: 0, generation: 0, fires: 0 };
    const next: FeedStatusRecord = { ...base, fires: base.fires + pending.fires };
    if (pending.lastFireAt !== undefined) next.lastFireAt = pending.lastFireAt;
    const change = pending.status;
    if (change) {
      next.status = change.name;
      next.since = previous?.status === change.name ? previous.since : change.at;
      next.generation = change.generation;
      next.host = this.hostId;
      next.failures = change.patch.failures ?? base.failures;
      delete next.reason;
      delete next.retryAt;
      if (change.patch.reason !== undefined) next.reason = change.patch.reason;
      if (change.patch.retryAt !== undefined) next.retryAt = change.patch.retryAt;
    }
    return next;
  }
}
