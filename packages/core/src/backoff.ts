export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** 0..1: the share of each delay that is randomised, so that many feeds do not retry in step. */
  jitter?: number;
}

/** Exponential backoff with jitter: the delay before retry number `attempt` (1-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialMs = 1000, maxMs = 5 * 60_000, factor = 2, jitter = 0.2 } = options;
  const base = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - jitter + jitter * 2 * random()));
}
