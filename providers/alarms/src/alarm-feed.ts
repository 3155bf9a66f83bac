import { FeedError, FeedStoppedError, messageOf, type FeedContext, type FeedHandle, type FeedInstance } from '@kindling/sdk';
import type { AlarmPlan } from './alarm-plan.js';
import { nextFire } from './catch-up.js';
import type { QueuedTimer, TimerQueue } from './timer-queue.js';

/** What an alarm feed keeps in its cursor; written only after the fire it records is durable. */
export interface AlarmCursor {
  v: 1;
  /** The schedule this cursor belongs to (`AlarmPlan.fingerprint`). */
  schedule: string;
  /** The feed generation that last started: a new one (resume, update) owes nothing from before. */
  generation: number;
  /** Fire times before this were never owed: when this generation first started. */
  since: number;
  /** Scheduled time (epoch ms) of the last fire made durable. */
  lastFireAt?: number;
  /** Fires made durable under this schedule: what `maxTriggers` counts, across restarts. */
  fires: number;
  /**
   * Set once the alarm has nothing left to do (fired once, maxTriggers reached, stopDate
   * passed). `deleteAfterFire` is copied here for the platform, which owns trigger deletion.
   */
  done?: { at: number; reason: string; deleteAfterFire?: boolean | 'rules' };
}

/**
 * The event id of the fire scheduled at `scheduledAt`: `<feed id>@<ISO time>`, so that a retry,
 * a restart or a second host reuses it, and a reader sees which slot fired. (No hash: at 10,000
 * fires a second a SHA-256 per fire was a tenth of the scheduler's CPU.)
 */
export function alarmEventId(feedId: string, scheduledAt: number): string {
  return `${feedId}@${new Date(scheduledAt).toISOString()}`;
}

export function isAlarmCursor(value: unknown): value is AlarmCursor {
  const cursor = value as Partial<AlarmCursor> | null | undefined;
  return (
    !!cursor &&
    cursor.v === 1 &&
    typeof cursor.schedule === 'string' &&
    typeof cursor.generation === 'number' &&
    typeof cursor.since === 'number' &&
    typeof cursor.fires === 'number' &&
    (cursor.lastFireAt === undefined || typeof cursor.lastFireAt === 'number')
  );
}

const iso = (time: number) => new Date(time).toISOString();

const SETTLED: Promise<void> = Promise.resolve();

/** The first fire time still owed by a feed with this cursor: after the last durable fire, and not before `since`. */
export function owedFrom(cursor: AlarmCursor): number {
  return cursor.lastFireAt === undefined ? cursor.since : Math.max(cursor.since, cursor.lastFireAt + 1);
}

/**
 * The cursor a starting feed works from. The same schedule and generation: the stored one, so
 * that what was missed while no host ran the feed is caught up. A new generation (a resume or an
 * update): the count and last fire carry on, but fires owed start now — a paused feed does not
 * make up its pause. Another schedule (or no cursor): a fresh one; a fresh `once` owes its date
 * even if it passed before the first start (it was in the future at CREATE).
 */
export function startingCursor(stored: unknown, plan: AlarmPlan, generation: number, now: number): { cursor: AlarmCursor; changed: boolean } {
  if (isAlarmCursor(stored) && stored.schedule === plan.fingerprint) {
    // Whether a finished alarm is done is decided afresh: an update may have raised maxTriggers.
    const { done: _done, ...rest } = stored;
    if (stored.generation === generation) return { cursor: rest, changed: false };
    return { cursor: { ...rest, generation, since: now }, changed: true };
  }
  const since = plan.owesFiresBeforeFirstStart ? Number.MIN_SAFE_INTEGER : now;
  return { cursor: { v: 1, schedule: plan.fingerprint, generation, since, fires: 0 }, changed: true };
}

/**
 * One running alarm: waits in the host's shared timer queue for its next fire time, fires with
 * an id derived from that time, stores the cursor once the fire is durable, then decides the
 * next fire time (catching up by policy if it fell behind).
 */
export class AlarmFeed implements FeedHandle {
  private cursor: AlarmCursor;
  private timer: QueuedTimer | undefined;
  private inFlight: Promise<void> = SETTLED;
  private stopped = false;

  private constructor(
    private readonly feed: FeedInstance<unknown>,
    private readonly ctx: FeedContext,
    private readonly plan: AlarmPlan,
    cursor: AlarmCursor,
  ) {
    this.cursor = cursor;
  }

  static async start(feed: FeedInstance<unknown>, ctx: FeedContext, plan: AlarmPlan, queue: TimerQueue): Promise<AlarmFeed> {
    const now = ctx.clock.now();
    const { cursor, changed } = startingCursor(await ctx.cursor.get<unknown>(), plan, feed.generation, now);
    if (changed) await ctx.cursor.set(cursor);
    const alarm = new AlarmFeed(feed, ctx, plan, cursor);
    if (ctx.signal.aborted) {
      alarm.stopped = true;
      return alarm;
    }
    // No abort listener (one costs ~0.3 KB a feed): the host calls stop() right after aborting,
    // and a fire that comes in between is refused by ctx.fire and dropped quietly.
    alarm.timer = queue.register((dueAt) => (alarm.inFlight = alarm.fireDue(dueAt)));
    const doneReason = alarm.scheduleNext(owedFrom(cursor), now);
    if (doneReason !== undefined) {
      alarm.halt();
      await alarm.recordDone(doneReason);
    }
    return alarm;
  }

  async stop(): Promise<void> {
    this.halt();
    await this.inFlight;
  }

  private halt(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private async fireDue(dueAt: number): Promise<void> {
    if (this.stopped) return;
    try {
      await this.ctx.fire(this.plan.data, { id: alarmEventId(this.feed.id, dueAt), time: dueAt });
    } catch (error) {
      // Stopped meanwhile: the fire was refused, nothing to record.
      if (this.stopped || error instanceof FeedStoppedError) return;
      this.ctx.fail(new FeedError(`firing the alarm due at ${iso(dueAt)} failed: ${messageOf(error)}`, { cause: error }));
      return;
    }
    // Durable now: record it even if the feed was stopped during the publish, so no restart repeats it.
    const previous = this.cursor;
    const cursor: AlarmCursor = { v: 1, schedule: previous.schedule, generation: previous.generation, since: previous.since, lastFireAt: dueAt, fires: previous.fires + 1 };
    try {
      await this.ctx.cursor.set(cursor);
    } catch (error) {
      if (this.stopped) return;
      this.ctx.fail(new FeedError(`storing the time of the fire due at ${iso(dueAt)} failed: ${messageOf(error)}`, { cause: error }));
      return;
    }
    this.cursor = cursor;
    if (this.stopped) return;
    let doneReason: string | undefined;
    try {
      doneReason = this.scheduleNext(dueAt + 1, this.ctx.clock.now());
    } catch (error) {
      this.ctx.fail(new FeedError(`computing the fire after ${iso(dueAt)} failed: ${messageOf(error)}`, { cause: error }));
      return;
    }
    if (doneReason !== undefined) {
      this.halt();
      await this.recordDone(doneReason);
    }
  }

  /** Puts the feed in the queue for its next fire time; returns why it is done when it has none. */
  private scheduleNext(from: number, now: number): string | undefined {
    const { maxTriggers } = this.plan;
    if (maxTriggers !== undefined && this.cursor.fires >= maxTriggers) {
      return this.plan.kind === 'once'
        ? `it fired once, at ${iso(this.cursor.lastFireAt ?? now)}`
        : `maxTriggers (${maxTriggers}) reached; last fire at ${iso(this.cursor.lastFireAt ?? now)}`;
    }
    const { at, skipped } = nextFire(this.plan.schedule, from, now, this.plan.catchUp);
    if (skipped) {
      this.ctx.log.warn(
        { catchUp: this.plan.catchUp.mode, missedFrom: iso(skipped.first), missedTo: iso(skipped.last) },
        'alarm fires missed while the feed was not running (or behind) were skipped',
      );
    }
    if (at === undefined) {
      if (this.plan.stopAt !== undefined) return `no fire time is left before stopDate (${iso(this.plan.stopAt)})`;
      if (this.plan.kind === 'once') return `its date passed while the feed was not running, and catchUp is '${this.plan.catchUp.mode}'`;
      return 'its schedule has no fire time left';
    }
    this.timer?.schedule(at);
    return undefined;
  }

  private async recordDone(reason: string): Promise<void> {
    const done: NonNullable<AlarmCursor['done']> = { at: this.ctx.clock.now(), reason };
    if (this.plan.deleteAfterFire !== undefined) done.deleteAfterFire = this.plan.deleteAfterFire;
    const cursor: AlarmCursor = { ...this.cursor, done };
    try {
      await this.ctx.cursor.set(cursor);
      this.cursor = cursor;
    } catch (error) {
      this.ctx.log.warn({ err: messageOf(error) }, 'recording that the alarm is done failed');
    }
    this.ctx.log.info({ reason }, 'alarm done');
    const { deleteAfterFire } = this.plan;
    this.ctx.complete(`the alarm is done: ${reason}`, deleteAfterFire ? { deleteTrigger: deleteAfterFire } : {});
  }
}
