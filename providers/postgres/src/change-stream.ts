import type { FeedContext } from '@kindling/core';
import { ChangeAssembler, type ChangeStep } from './change-assembler.js';
import { formatLsn, parseLsn, type Lsn } from './lsn.js';
import { decodePgoutput } from './pgoutput-decoder.js';

/** What the change stream needs of a replication connection (a `ReplicationClient`, or a test double). */
export interface ReplicationLink {
  confirm(lsn: Lsn, replyRequested?: boolean): void;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

/** The feed's cursor: every change of every transaction that committed before `lsn` is durable. */
export interface PgCursor {
  lsn: string;
}

export interface ChangeStreamOptions {
  ctx: Pick<FeedContext, 'fire' | 'cursor' | 'log' | 'fail'>;
  /** Turns an error into one that is safe to show (no connection string, no password). */
  scrub(error: unknown): Error;
  /** Steps queued before the socket is paused; reading resumes once a tenth of that is left. */
  maxPending?: number;
  /** Least time between two cursor writes while changes stream in. */
  checkpointIntervalMs?: number;
}

/**
 * The heart of the feed: fires each change in commit order, each awaited until durable, and only
 * then moves the position it confirms, both to the server (the slot's confirmed flush LSN, so
 * that PostgreSQL may recycle WAL) and to the feed's cursor (the start point after a restart).
 * Nothing is confirmed ahead of the bus: a crash at any point replays from a point at or before
 * the first change that was not durable, and the replayed ids are absorbed by the bus.
 *
 * Fires are sequential rather than pipelined so that a failed publish can never let a later
 * change reach the bus before an earlier one.
 */
export class ChangeStream {
  private readonly assembler = new ChangeAssembler();
  private readonly maxPending: number;
  private readonly checkpointIntervalMs: number;
  private link: ReplicationLink | undefined;
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private paused = false;
  private stopping = false;
  private failed = false;
  /** Set once a change was not fired (failure or stop): from then on no position moves. */
  private halted = false;
  /** Every change before this LSN is durable on the bus. */
  private durable: Lsn;
  /** What the cursor holds (or is being written with). */
  private stored: Lsn;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: ChangeStreamOptions,
    startLsn: Lsn,
  ) {
    this.maxPending = options.maxPending ?? 2000;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? 100;
    this.durable = startLsn;
    this.stored = startLsn;
  }

  /** The cursor's start point, or 0/0 (the slot's own position) for a feed that has none. */
  static async startLsnOf(ctx: Pick<FeedContext, 'cursor'>): Promise<Lsn> {
    const cursor = await ctx.cursor.get<PgCursor>();
    return cursor?.lsn ? parseLsn(cursor.lsn) : 0n;
  }

  /** The connection to confirm positions on; data may arrive before it is attached. */
  attach(link: ReplicationLink): void {
    this.link = link;
  }

  /** Position up to which every change is durable. */
  get durableLsn(): Lsn {
    return this.durable;
  }

  onData(payload: Buffer): void {
    if (this.stopping || this.failed) return;
    let steps: ChangeStep[];
    try {
      steps = this.assembler.push(decodePgoutput(payload));
    } catch (error) {
      this.fail(error);
      return;
    }
    for (const step of steps) this.enqueue(step);
  }

  onKeepalive(walEnd: Lsn, replyRequested: boolean): void {
    if (this.stopping || this.failed) return;
    // Nothing in flight and no transaction open: every change the server has sent before this
    // keepalive is durable, so the slot may move past WAL that held nothing for this feed.
    if (!this.assembler.inTransaction && this.pending === 0 && walEnd > this.durable) this.markDurable(walEnd);
    if (replyRequested) this.link?.confirm(this.durable);
  }

  onError(error: unknown): void {
    this.fail(error);
  }

  /** Stops taking changes, lets the one in flight settle, stores the final position, closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.tail;
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    await this.checkpointing;
    await this.checkpoint().catch((error) => this.options.ctx.log.warn({ err: this.options.scrub(error).message }, 'storing the final cursor failed'));
    await this.link?.close();
  }

  private enqueue(step: ChangeStep): void {
    this.pending++;
    if (!this.paused && this.pending >= this.maxPending) {
      this.paused = true;
      this.link?.pause();
    }
    this.tail = this.tail.then(async () => {
      try {
        // Once a change is left unfired, nothing after it fires and no position moves past it:
        // the rest is replayed from the last durable position by the next start.
        if (step.kind === 'change' && this.stopping) this.halted = true;
        if (!this.halted) await this.run(step);
      } catch (error) {
        this.fail(error);
      } finally {
        this.pending--;
        if (this.paused && this.pending <= this.maxPending / 10) {
          this.paused = false;
          this.link?.resume();
        }
      }
    });
  }

  private async run(step: ChangeStep): Promise<void> {
    if (step.kind === 'checkpoint') {
      this.markDurable(step.lsn);
      return;
    }
    const { change } = step;
    await this.options.ctx.fire(change, { id: step.id, time: change.commitTime, subject: `${change.schema}.${change.table}` });
  }

  private markDurable(lsn: Lsn): void {
    if (lsn <= this.durable) return;
    this.durable = lsn;
    if (!this.checkpointTimer && !this.stopping) {
      this.checkpointTimer = setTimeout(() => {
        this.checkpointTimer = undefined;
        this.checkpointing = this.checkpoint().catch((error) => this.fail(error));
      }, this.checkpointIntervalMs);
    }
  }

  /** Stores the durable position in the cursor, then confirms it to the server. */
  private async checkpoint(): Promise<void> {
    const lsn = this.durable;
    if (lsn > this.stored) {
      await this.options.ctx.cursor.set<PgCursor>({ lsn: formatLsn(lsn) });
      this.stored = lsn;
    }
    if (lsn > 0n) this.link?.confirm(lsn);
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.halted = true;
    if (!this.stopping) this.options.ctx.fail(this.options.scrub(error));
  }
}
