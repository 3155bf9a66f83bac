import {
  defineFeedKind,
  defineProvider,
  FeedError,
  messageOf,
  parseWith,
  SDK_VERSION,
  type FeedContext,
  type FeedInstance,
  type ProviderDefinition,
  type TeardownContext,
  type z,
} from '@kindling/sdk';
import { AlarmFeed, isAlarmCursor, owedFrom } from './alarm-feed.js';
import { alarmPlan, intervalPlan, oncePlan, type AlarmPlan } from './alarm-plan.js';
import { nextFire } from './catch-up.js';
import { alarmParams, intervalParams, onceParams, type AlarmParams, type IntervalParams, type OnceParams } from './params.js';
import { TimerQueue } from './timer-queue.js';
import { validateAlarmParams, validateIntervalParams, validateOnceParams } from './validate-params.js';

export interface AlarmsProviderOptions {
  /**
   * Fires in flight at once on one host, across all its alarm feeds (each: a durable publish,
   * then a cursor write). Default 1000.
   */
  maxFiresInFlight?: number;
}

/** The key of the per-host timer queue among the provider's shared resources. */
const TIMER_QUEUE = 'alarms:timer-queue';

/**
 * The alarms provider: OpenWhisk's `alarm` (cron), `interval` and `once` feeds, scheduled by one
 * timer queue per host, with deterministic event ids, durable last-fire cursors and catch-up.
 */
export function createAlarmsProvider(options: AlarmsProviderOptions = {}): ProviderDefinition {
  function kindRunner<S extends z.ZodType>(schema: S, planOf: (params: z.output<S>, feedId: string) => AlarmPlan) {
    const storedPlan = (feed: FeedInstance<unknown>): AlarmPlan => {
      try {
        return planOf(parseWith(schema, feed.params, { code: 'KND_BAD_FEED_PARAMS' }), feed.id);
      } catch (error) {
        // Stored parameters are validated at CREATE; failing here means they were written around the API.
        throw new FeedError(`the stored parameters cannot be scheduled: ${messageOf(error)}`, { retryable: false, cause: error });
      }
    };
    return {
      async start(feed: FeedInstance<unknown>, ctx: FeedContext) {
        const plan = storedPlan(feed);
        const queue = await ctx.resources.acquire(
          TIMER_QUEUE,
          // Runs report their own failures through their feed's ctx.fail: no onRunError here.
          async () => new TimerQueue(ctx.clock, { maxInFlight: options.maxFiresInFlight ?? 1000 }),
          async (timerQueue) => timerQueue.close(),
        );
        return AlarmFeed.start(feed, ctx, plan, queue);
      },
      async describe(feed: FeedInstance<unknown>, ctx: TeardownContext): Promise<Record<string, unknown>> {
        return describeAlarm(storedPlan(feed), await ctx.cursor.get<unknown>(), Date.now());
      },
    };
  }

  const alarm = kindRunner(alarmParams, (params) => alarmPlan(params));
  const interval = kindRunner(intervalParams, (params, feedId) => intervalPlan(params, feedId));
  const once = kindRunner(onceParams, (params) => oncePlan(params));

  return defineProvider({
    name: 'alarms',
    sdkVersion: SDK_VERSION,
    description: 'Time-based triggers: cron schedules, fixed intervals and one-off dates.',
    kinds: {
      alarm: defineFeedKind<AlarmParams>({
        description: 'Fires on a cron schedule (5 fields, or 6 with seconds first) in a time zone, between optional start and stop dates.',
        params: alarmParams,
        pattern: 'timer',
        validate: (params) => validateAlarmParams(params),
        start: alarm.start,
        describe: alarm.describe,
      }),
      interval: defineFeedKind<IntervalParams>({
        description: 'Fires every `minutes` (or `seconds`), between optional start and stop dates.',
        params: intervalParams,
        pattern: 'timer',
        validate: (params) => validateIntervalParams(params),
        start: interval.start,
        describe: interval.describe,
      }),
      once: defineFeedKind<OnceParams>({
        description: 'Fires once, at `date`.',
        params: onceParams,
        pattern: 'timer',
        validate: (params) => validateOnceParams(params),
        start: once.start,
        describe: once.describe,
      }),
    },
  });
}

/** What READ shows about a running alarm beyond its parameters. */
export function describeAlarm(plan: AlarmPlan, stored: unknown, now: number): Record<string, unknown> {
  const cursor = isAlarmCursor(stored) && stored.schedule === plan.fingerprint ? stored : undefined;
  const facts: Record<string, unknown> = { fires: cursor?.fires ?? 0 };
  if (cursor?.lastFireAt !== undefined) facts.lastFireAt = new Date(cursor.lastFireAt).toISOString();
  if (cursor?.done) {
    facts.done = { at: new Date(cursor.done.at).toISOString(), reason: cursor.done.reason };
    return facts;
  }
  const exhausted = plan.maxTriggers !== undefined && (cursor?.fires ?? 0) >= plan.maxTriggers;
  const next = exhausted ? undefined : nextFire(plan.schedule, cursor ? owedFrom(cursor) : now, now, plan.catchUp).at;
  if (next !== undefined) facts.nextFireAt = new Date(Math.max(next, now)).toISOString();
  return facts;
}

export const alarmsProvider: ProviderDefinition = createAlarmsProvider();
