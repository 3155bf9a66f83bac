import type { JsonBucket } from '@kindling/core';
import type { Lease } from './feed-repository.js';

/**
 * Which host runs which feed. A lease is a key-value entry `{host, expiresAt}` taken and renewed
 * with compare-and-set on its revision, so that with several hosts each feed runs once, and a
 * dead host's feeds are taken over when its leases expire.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly bucket: JsonBucket<Lease>,
    private readonly hostId: string,
    private readonly ttlMs: number,
    private readonly onLost: (feedId: string) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.renewAll(), Math.max(250, this.ttlMs / 3));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.held.keys()].map((feedId) => this.release(feedId)));
  }

  holds(feedId: string): boolean {
    return this.held.has(feedId);
  }

  /** Takes or renews the lease; false when another live host holds it. */
  async acquire(feedId: string): Promise<boolean> {
    const now = Date.now();
    const current = await this.bucket.get(feedId);
    if (current && current.value.host !== this.hostId && current.value.expiresAt > now) {
      this.held.delete(feedId);
      return false;
    }
    try {
      const revision = await this.bucket.put(
        feedId,
        { host: this.hostId, expiresAt: now + this.ttlMs },
        { previousRevision: current?.revision ?? 0 },
      );
      this.held.set(feedId, revision);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'KND_CONFLICT') return false;
      throw error;
    }
  }

  async release(feedId: string): Promise<void> {
    const revision = this.held.get(feedId);
    this.held.delete(feedId);
    if (revision === undefined) return;
    await this.bucket.delete(feedId, { previousRevision: revision }).catch(() => undefined);
  }

  private async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held.entries()].map(async ([feedId, revision]) => {
        try {
          const next = await this.bucket.put(feedId, { host: this.hostId, expiresAt: Date.now() + this.ttlMs }, { previousRevision: revision });
          if (this.held.has(feedId)) this.held.set(feedId, next);
        } catch (error) {
          // A store hiccup: keep the lease and try again on the next tick, before it expires.
          if ((error as { code?: string }).code !== 'KND_CONFLICT') return;
          this.held.delete(feedId);
          this.onLost(feedId);
        }
      }),
    );
  }
}
