import { encodeToken, type JsonBucket, KindlingError, type Logger, messageOf, type Versioned } from '@kindling/core';
import type { Lease } from './feed-repository.js';

/** What partition ownership tells the host. */
export interface OwnershipListener {
  /** This host now owns the partition: start its feeds. */
  acquired(partition: number): void;
  /** This host gives the partition up to balance the load: stop its feeds before the lease goes. */
  releasing(partition: number): Promise<void>;
  /** The lease was lost (taken by another host, or not renewed in time): stop its feeds now. */
  lost(partition: number): void;
}

export interface PartitionOwnershipOptions {
  /** The leases bucket: `partition.<n>` leases and `host.<id>` heartbeats. */
  leases: JsonBucket<Lease>;
  hostId: string;
  partitions: number;
  /** How long a lease or heartbeat holds without renewal: the bound on a dead host's takeover. */
  ttlMs: number;
  /** How often leases and the heartbeat are renewed and the balance checked; well under `ttlMs`. */
  renewEveryMs: number;
  log: Logger;
  now?: () => number;
}

interface HeldLease {
  revision: number;
  /** The revision the lease was taken at: grows with every change of owner, so it fences writes. */
  fence: number;
  expiresAt: number;
}

const PARTITION_PREFIX = 'partition.';
const HOST_PREFIX = 'host.';

/**
 * Ownership of the feed partitions, as Kafka's consumer groups and Temporal's shards divide
 * work: every host writes a heartbeat; each period it renews the leases it holds (one
 * compare-and-set per partition, none per feed), counts the live hosts, and takes free or expired
 * partitions up to its fair share, or gives up those above it, so that a joining host gets work
 * and a dead host's partitions are taken once its leases expire. The fence of a lease (the
 * revision it was taken at) is what cursor writes carry, so that a host that lost a partition
 * cannot write over its new owner.
 */
export class PartitionOwnership {
  private readonly held = new Map<number, HeldLease>();
  private timer?: NodeJS.Timeout;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly options: PartitionOwnershipOptions,
    private readonly listener: OwnershipListener,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Writes the heartbeat and takes a first share; then keeps renewing and balancing. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick());
    }, this.options.renewEveryMs);
    this.timer.unref();
  }

  /** Stops the feeds of every partition held, then releases the leases and the heartbeat. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.held.keys()].map((partition) => this.release(partition)));
    await this.options.leases.delete(this.hostKey()).catch(() => undefined);
  }

  /** True while this host holds an unexpired lease on the partition. */
  holds(partition: number): boolean {
    const lease = this.held.get(partition);
    return lease !== undefined && lease.expiresAt > this.now();
  }

  /** The fence of the partition's lease while it is held; undefined otherwise. */
  fence(partition: number): number | undefined {
    return this.holds(partition) ? this.held.get(partition)?.fence : undefined;
  }

  owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** A write was fenced off: another host owns the partition now. */
  markLost(partition: number): void {
    if (!this.held.delete(partition)) return;
    this.options.log.warn({ partition }, 'lost the lease of a feed partition; stopping its feeds here');
    this.listener.lost(partition);
  }

  private hostKey(): string {
    return `${HOST_PREFIX}${encodeToken(this.options.hostId)}`;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const { leases, hostId, ttlMs, log } = this.options;
    try {
      await leases.put(this.hostKey(), { host: hostId, expiresAt: this.now() + ttlMs });
    } catch (error) {
      log.warn({ err: messageOf(error) }, 'writing the provider host heartbeat failed');
    }
    await Promise.all([...this.held.keys()].map((partition) => this.renew(partition)));
    if (this.stopped) return;
    let entries: Array<Versioned<Lease> & { key: string }>;
    try {
      // By prefix: the bucket may still hold the per-feed leases of an older version.
      entries = (await Promise.all([leases.list(HOST_PREFIX), leases.list(PARTITION_PREFIX)])).flat();
    } catch (error) {
      log.warn({ err: messageOf(error) }, 'reading the feed partition leases failed');
      return;
    }
    await this.balance(entries);
  }

  private async renew(partition: number): Promise<void> {
    const lease = this.held.get(partition);
    if (!lease) return;
    // Renewed late (a busy event loop): feeds were not started meanwhile, so the partition is reconciled again.
    const lapsed = lease.expiresAt <= this.now();
    const expiresAt = this.now() + this.options.ttlMs;
    try {
      const revision = await this.options.leases.put(partitionKey(partition), { host: this.options.hostId, expiresAt }, { previousRevision: lease.revision });
      if (this.held.get(partition) !== lease) return;
      this.held.set(partition, { ...lease, revision, expiresAt });
      if (lapsed) this.listener.acquired(partition);
    } catch (error) {
      if (error instanceof KindlingError && error.code === 'KND_CONFLICT') return this.markLost(partition);
      // A store hiccup: keep going while the lease lasts, and give the feeds up once it would have expired.
      this.options.log.warn({ partition, err: messageOf(error) }, 'renewing a feed partition lease failed');
      if (lease.expiresAt <= this.now()) this.markLost(partition);
    }
  }

  /** Takes free partitions up to the fair share, or gives up those above it. */
  private async balance(entries: Array<Versioned<Lease> & { key: string }>): Promise<void> {
    const now = this.now();
    const { partitions, hostId } = this.options;
    const liveHosts = new Set([hostId]);
    const leaseOf = new Map<number, Versioned<Lease>>();
    for (const entry of entries) {
      if (entry.key.startsWith(HOST_PREFIX) && entry.value.expiresAt > now) liveHosts.add(entry.value.host);
      if (entry.key.startsWith(PARTITION_PREFIX)) leaseOf.set(Number(entry.key.slice(PARTITION_PREFIX.length)), entry);
    }
    const share = Math.ceil(partitions / liveHosts.size);
    if (this.held.size > share) {
      const surplus = this.owned().slice(share);
      await Promise.all(surplus.map((partition) => this.release(partition)));
      return;
    }
    // Start the search at a point of the host's own, so that hosts starting together collide less.
    const offset = [...hostId].reduce((sum, char) => sum + char.charCodeAt(0), 0) % partitions;
    for (let i = 0; i < partitions && this.held.size < share && !this.stopped; i++) {
      const partition = (offset + i) % partitions;
      if (this.held.has(partition)) continue;
      const current = leaseOf.get(partition);
      if (current && current.value.expiresAt > now) continue;
      await this.acquire(partition, current?.revision ?? 0);
    }
  }

  private async acquire(partition: number, previousRevision: number): Promise<void> {
    const expiresAt = this.now() + this.options.ttlMs;
    try {
      const revision = await this.options.leases.put(partitionKey(partition), { host: this.options.hostId, expiresAt }, { previousRevision });
      this.held.set(partition, { revision, fence: revision, expiresAt });
    } catch (error) {
      if (!(error instanceof KindlingError && error.code === 'KND_CONFLICT')) {
        this.options.log.warn({ partition, err: messageOf(error) }, 'taking a feed partition lease failed');
      }
      return;
    }
    this.options.log.debug({ partition }, 'took a feed partition');
    this.listener.acquired(partition);
  }

  /** Stops the partition's feeds, then deletes the lease so that another host can take it at once. */
  private async release(partition: number): Promise<void> {
    const lease = this.held.get(partition);
    if (!lease) return;
    await this.listener.releasing(partition);
    if (this.held.get(partition) !== lease) return;
    this.held.delete(partition);
    await this.options.leases.delete(partitionKey(partition), { previousRevision: lease.revision }).catch(() => undefined);
    this.options.log.debug({ partition }, 'released a feed partition');
  }
}

function partitionKey(partition: number): string {
  return `${PARTITION_PREFIX}${partition}`;
}
