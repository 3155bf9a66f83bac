import { alarmsProvider } from './alarms-provider.js';

export { alarmsProvider, createAlarmsProvider, describeAlarm, type AlarmsProviderOptions } from './alarms-provider.js';
export { alarmEventId, type AlarmCursor } from './alarm-feed.js';
export { alarmParams, intervalParams, onceParams, eventData, parseDate, type AlarmParams, type IntervalParams, type OnceParams } from './params.js';
export { nextFire, MISFIRE_GRACE_MS, DEFAULT_CATCH_UP, type CatchUpMode, type CatchUpPolicy, type NextFire } from './catch-up.js';
export { CronSchedule, cronProblem } from './cron-schedule.js';
export { IntervalSchedule, OnceSchedule, phaseOf, type Schedule, type ScheduleBounds } from './schedule.js';
export { TimeZone } from './time-zone.js';
export { TimerQueue, QueuedTimer, type TimerQueueOptions } from './timer-queue.js';

export default alarmsProvider;
