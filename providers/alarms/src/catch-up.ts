import type { Schedule } from './schedule.js';

/** What to do with fire times that passed while the feed was not running (or fell behind). */
export type CatchUpMode = 'none' | 'last' | 'all';

export interface CatchUpPolicy {
  mode: CatchUpMode;
  /** For `all`: at most this many missed fires are made up, the most recent ones. */
  max: number;
}

export const DEFAULT_CATCH_UP: CatchUpPolicy = { mode: 'last', max: 100 };

/**
 * A fire time overdue by less than this is late, not missed: it fires even under `none`, so that
 * a feed restarted for an update, or a busy host, does not drop the fire it was about to make.
 */
export const MISFIRE_GRACE_MS = 250;

export interface NextFire {
  /** The fire time to wait for (it may be in the past: then it fires at once); undefined when none is left. */
  at: number | undefined;
  /** Missed fire times the policy drops, for the log. */
  skipped?: { first: number; last: number };
}

/**
 * Decides which fire comes next, given that every fire time at or after `from` is still unfired
 * and the time is `now`. Fire times that are due go first, oldest first; of those missed (overdue
 * by more than the grace), `none` keeps none, `last` the most recent, `all` the `max` most recent.
 */
export function nextFire(schedule: Schedule, from: number, now: number, policy: CatchUpPolicy): NextFire {
  const first = schedule.firstAtOrAfter(from);
  if (first === undefined || first >= now - MISFIRE_GRACE_MS) return { at: first };
  switch (policy.mode) {
    case 'none': {
      const cutoff = now - MISFIRE_GRACE_MS;
      const lastMissed = schedule.latestAtOrBefore(cutoff - 1, from, 1)[0] ?? first;
      return { at: schedule.firstAtOrAfter(cutoff), skipped: { first, last: lastMissed } };
    }
    case 'last': {
      const [latest, beforeLatest] = schedule.latestAtOrBefore(now, from, 2);
      if (latest === undefined || beforeLatest === undefined) return { at: latest ?? first };
      return { at: latest, skipped: { first, last: beforeLatest } };
    }
    case 'all': {
      const recent = schedule.latestAtOrBefore(now, from, policy.max + 1);
      if (recent.length <= policy.max) return { at: first };
      return { at: recent[policy.max - 1], skipped: { first, last: recent[policy.max] ?? first } };
    }
  }
}
