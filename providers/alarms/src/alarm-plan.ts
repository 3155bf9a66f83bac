import { DEFAULT_CATCH_UP, type CatchUpPolicy } from './catch-up.js';
import { CronSchedule } from './cron-schedule.js';
import { eventData, parseDate, type AlarmParams, type IntervalParams, type OnceParams } from './params.js';
import { IntervalSchedule, OnceSchedule, phaseOf, type Schedule, type ScheduleBounds } from './schedule.js';
import { TimeZone } from './time-zone.js';

/** What a running alarm feed needs, derived once from its validated parameters. */
export interface AlarmPlan {
  kind: 'alarm' | 'interval' | 'once';
  schedule: Schedule;
  /** The stopDate, if any. */
  stopAt: number | undefined;
  /** `once` only: passed on in the cursor when the alarm is done, for the platform to act on. */
  deleteAfterFire?: boolean | 'rules';
  /** The event data of every fire. */
  data: Record<string, unknown>;
  /** Fires after which the feed is done; undefined for unlimited. */
  maxTriggers: number | undefined;
  catchUp: CatchUpPolicy;
  /**
   * Identifies the schedule (not the payload or limits): a stored cursor written for another
   * schedule is not caught up from, so an UPDATE that changes the schedule starts afresh.
   */
  fingerprint: string;
  /**
   * Whether fire times before the schedule's first start count as missed. True for `once`: its
   * date was checked to be in the future at CREATE, so a first start after it means no host ran
   * the feed in time and the fire is owed; a recurring alarm starts from now.
   */
  owesFiresBeforeFirstStart: boolean;
}

function boundsOf(params: { startDate?: string | number | undefined; stopDate?: string | number | undefined }): ScheduleBounds {
  const bounds: ScheduleBounds = {};
  if (params.startDate !== undefined) bounds.start = parseDate(params.startDate);
  if (params.stopDate !== undefined) bounds.stop = parseDate(params.stopDate);
  return bounds;
}

function catchUpOf(params: { catchUp?: CatchUpPolicy['mode'] | undefined; maxCatchUp?: number | undefined }): CatchUpPolicy {
  return { mode: params.catchUp ?? DEFAULT_CATCH_UP.mode, max: params.maxCatchUp ?? DEFAULT_CATCH_UP.max };
}

function limitOf(maxTriggers: number | undefined): number | undefined {
  return maxTriggers === undefined || maxTriggers < 0 ? undefined : maxTriggers;
}

export function zoneOf(timezone: string | undefined): TimeZone {
  return timezone === undefined ? TimeZone.utc : TimeZone.of(timezone);
}

export function alarmPlan(params: AlarmParams): AlarmPlan {
  const zone = zoneOf(params.timezone);
  const bounds = boundsOf(params);
  return {
    kind: 'alarm',
    schedule: new CronSchedule(params.cron, zone, bounds),
    stopAt: bounds.stop,
    data: eventData(params.trigger_payload),
    maxTriggers: limitOf(params.maxTriggers),
    catchUp: catchUpOf(params),
    fingerprint: `cron ${params.cron.trim()} in ${zone.name} from ${bounds.start ?? '-'}`,
    owesFiresBeforeFirstStart: false,
  };
}

export function intervalMs(params: IntervalParams): number {
  return params.seconds !== undefined ? params.seconds * 1000 : (params.minutes ?? 1) * 60_000;
}

export function intervalPlan(params: IntervalParams, feedId: string): AlarmPlan {
  const periodMs = intervalMs(params);
  const bounds = boundsOf(params);
  const anchor = bounds.start ?? phaseOf(feedId, periodMs);
  return {
    kind: 'interval',
    schedule: new IntervalSchedule(periodMs, anchor, bounds),
    stopAt: bounds.stop,
    data: eventData(params.trigger_payload),
    maxTriggers: limitOf(params.maxTriggers),
    catchUp: catchUpOf(params),
    fingerprint: `every ${periodMs} ms from ${anchor}`,
    owesFiresBeforeFirstStart: false,
  };
}

export function oncePlan(params: OnceParams): AlarmPlan {
  const at = parseDate(params.date) as number;
  const plan: AlarmPlan = {
    kind: 'once',
    schedule: new OnceSchedule(at),
    stopAt: undefined,
    data: eventData(params.trigger_payload),
    maxTriggers: 1,
    catchUp: catchUpOf(params),
    fingerprint: `once at ${at}`,
    owesFiresBeforeFirstStart: true,
  };
  if (params.deleteAfterFire !== undefined) plan.deleteAfterFire = params.deleteAfterFire;
  return plan;
}
