import type { FeedContext } from '@kindling/sdk';
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
  /** Fires in flight at once (publishes are pipelined, in order); 1 awaits each before the next. */
  maxInFlight?: number;
  /** Changes waiting or in flight before the socket is paused; reading resumes at half that. */
  maxPending?: number;
  /** Least time between two cursor writes while changes stream in. */
  checkpointIntervalMs?: number;
}

/** A fire in flight, or the end of a transaction waiting for the fires before it. */
interface InFlight {
  settled: boolean;
  /** For the end of a transaction: the position durable once everything before it is. */
  lsn?: Lsn;
}

/**
 * The heart of the feed: fires the changes in commit order and moves the position it confirms —
 * to the server (the slot's confirmed flush LSN, so that PostgreSQL may recycle WAL) and to the
 * feed's cursor (the start point after a restart) — only past transactions whose every event is
 * durable. Nothing is confirmed ahead of the bus: a crash at any point replays from a point at or
 * before the first change that was not durable, and the replayed ids are absorbed by the bus.
 *
 * Publishes are pipelined (`maxInFlight`): they are issued in commit order and the bus stores
 * them in the order issued, so events keep commit order, across crashes too. Only a bus that
 * refuses one publish and accepts the next could store a later change first: the feed then stops
 * and the replay after its restart stores the refused change after the ones that followed it.
 */
export class ChangeStream {
  private readonly assembler = new ChangeAssembler();
  private readonly maxInFlight: number;
  private readonly maxPending: number;
  private readonly checkpointIntervalMs: number;
  private link: ReplicationLink | undefined;
  /** Steps not started yet, in order. */
  private readonly waiting: ChangeStep[] = [];
  /** Fires started and transaction ends, in order; the settled head is taken off as it completes. */
  private readonly inFlight: InFlight[] = [];
  private readonly firing = new Set<Promise<unknown>>();
  private paused = false;
  private stopping = false;
  private failed = false;
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
    this.maxInFlight = options.maxInFlight ?? 128;
    this.maxPending = options.maxPending ?? 4096;
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
    try {
      this.waiting.push(...this.assembler.push(decodePgoutput(payload)));
    } catch (error) {
      this.fail(error);
      return;
    }
    this.pump();
  }

  onKeepalive(walEnd: Lsn, replyRequested: boolean): void {
    if (this.stopping || this.failed) return;
    // Nothing waiting or in flight and no transaction open: every change the server sent before
    // this keepalive is durable, so the slot may move past WAL that held nothing for this feed.
    const idle = !this.assembler.inTransaction && this.waiting.length === 0 && this.inFlight.length === 0;
    if (idle && walEnd > this.durable) this.markDurable(walEnd);
    if (replyRequested) this.link?.confirm(this.durable);
  }

  onError(error: unknown): void {
    this.fail(error);
  }

  /** Stops taking changes, lets the fires in flight settle, stores the final position, closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    // Transaction ends that wait only on fires already in flight still count once those settle.
    for (const step of this.waiting) {
      if (step.kind === 'change') break;
      this.inFlight.push({ settled: true, lsn: step.lsn });
    }
    this.waiting.length = 0;
    await Promise.allSettled([...this.firing]);
    this.settleHead();
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    await this.checkpointing;
    await this.checkpoint().catch((error) => this.options.ctx.log.warn({ err: this.options.scrub(error).message }, 'storing the final cursor failed'));
    await this.link?.close();
  }

  /** Starts waiting steps while the pipeline has room; pauses or resumes the socket. */
  private pump(): void {
    while (!this.failed && !this.stopping && this.waiting.length > 0 && this.firing.size < this.maxInFlight) {
      const step = this.waiting.shift() as ChangeStep;
      if (step.kind === 'checkpoint') {
        this.inFlight.push({ settled: true, lsn: step.lsn });
      } else {
        this.fire(step);
      }
    }
    this.settleHead();
    const pending = this.waiting.length + this.inFlight.length;
    if (!this.paused && pending >= this.maxPending) {
      this.paused = true;
      this.link?.pause();
    } else if (this.paused && pending <= this.maxPending / 2) {
      this.paused = false;
      this.link?.resume();
    }
  }

  private fire(step: Extract<ChangeStep, { kind: 'change' }>): void {
    const entry: InFlight = { settled: false };
    this.inFlight.push(entry);
    const { change } = step;
    const firing = this.options.ctx.fire(change, { id: step.id, time: change.commitTime, subject: `${change.schema}.${change.table}` }).then(
      () => {
        entry.settled = true;
        this.firing.delete(firing);
        this.pump();
      },
      (error: unknown) => {
        this.firing.delete(firing);
        this.fail(error);
      },
    );
    this.firing.add(firing);
  }

  /** Takes completed entries off the head; a transaction end reached there is durable. */
  private settleHead(): void {
    while (!this.failed && this.inFlight[0]?.settled) {
      const { lsn } = this.inFlight.shift() as InFlight;
      if (lsn !== undefined) this.markDurable(lsn);
    }
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

  /** A failed fire or a broken stream: nothing more fires and no position moves past it. */
  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    if (!this.stopping) this.options.ctx.fail(this.options.scrub(error));
  }
}
