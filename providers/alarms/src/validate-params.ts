import { FeedParamError } from '@kindling/sdk';
import { alarmPlan, intervalMs, intervalPlan } from './alarm-plan.js';
import { cronProblem } from './cron-schedule.js';
import { parseDate, type AlarmParams, type IntervalParams, type OnceParams } from './params.js';
import type { Schedule } from './schedule.js';
import { TimeZone } from './time-zone.js';

/**
 * Checks beyond the schemas, run at CREATE and UPDATE (the host does not run them again at
 * start, so "in the future" means at the time of the request). Each throws a FeedParamError that
 * names the field, which the API answers with a 400.
 */

const iso = (time: number) => new Date(time).toISOString();

interface DateRange {
  startDate?: string | number | undefined;
  stopDate?: string | number | undefined;
}

function checkDateRange(params: DateRange, now: number): void {
  const start = params.startDate === undefined ? undefined : parseDate(params.startDate);
  const stop = params.stopDate === undefined ? undefined : parseDate(params.stopDate);
  if (stop === undefined) return;
  if (start !== undefined && stop <= start) {
    throw new FeedParamError('stopDate', `must be after startDate (${iso(start)}); it is ${iso(stop)}`);
  }
  if (stop <= now) throw new FeedParamError('stopDate', `is in the past (${iso(stop)}); the alarm would never fire`);
}

function checkFiresBeforeStop(params: DateRange, schedule: Schedule, now: number): void {
  const start = params.startDate === undefined ? now : Math.max(now, parseDate(params.startDate) as number);
  if (schedule.firstAtOrAfter(start) !== undefined) return;
  if (params.stopDate !== undefined) {
    throw new FeedParamError('stopDate', `the schedule has no fire time between ${iso(start)} and stopDate (${iso(parseDate(params.stopDate) as number)})`);
  }
  throw new FeedParamError('cron', 'the expression never matches a date');
}

export function validateAlarmParams(params: AlarmParams, now = Date.now()): void {
  if (params.timezone !== undefined && !TimeZone.isValid(params.timezone)) {
    throw new FeedParamError('timezone', `unknown time zone '${params.timezone}': give an IANA name such as 'Europe/Paris' or 'America/New_York'`);
  }
  const problem = cronProblem(params.cron.trim());
  if (problem) throw new FeedParamError('cron', `'${params.cron}' is not a valid cron expression: ${problem}`);
  checkDateRange(params, now);
  checkFiresBeforeStop(params, alarmPlan(params).schedule, now);
}

export function validateIntervalParams(params: IntervalParams, now = Date.now()): void {
  if (params.minutes !== undefined && params.seconds !== undefined) {
    throw new FeedParamError('seconds', 'give either minutes or seconds, not both');
  }
  if (params.minutes === undefined && params.seconds === undefined) {
    throw new FeedParamError('minutes', 'required: the interval in minutes (or seconds, for short intervals)');
  }
  checkDateRange(params, now);
  if (params.startDate !== undefined) {
    checkFiresBeforeStop(params, intervalPlan(params, 'validation').schedule, now);
    return;
  }
  // Without startDate the phase comes from the feed id, unknown here: ask for one whole interval.
  const periodMs = intervalMs(params);
  const stop = params.stopDate === undefined ? undefined : (parseDate(params.stopDate) as number);
  if (stop !== undefined && stop - now < periodMs) {
    throw new FeedParamError('stopDate', `is less than one interval away (${iso(stop)}); the alarm might never fire`);
  }
}

export function validateOnceParams(params: OnceParams, now = Date.now()): void {
  const at = parseDate(params.date) as number;
  if (at <= now) throw new FeedParamError('date', `must be in the future; it is ${iso(at)} and now is ${iso(now)}`);
}
