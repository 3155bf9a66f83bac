import type { ResolvedOptions } from '../conformance-options.js';
import { ScenarioHalt, type ConformanceHarness } from '../conformance-harness.js';
import type { RuleId } from '../rules.js';
import type { Verdicts } from '../verdicts.js';

/** One story the kit plays against the provider, on a world of its own. */
export interface Scenario {
  name: string;
  /** What happens in it, in words: findings quote it. */
  title: string;
  /** Rules it judges beyond those every scenario checks (leaks, secrets, throws, stops). */
  judges: readonly RuleId[];
  run(h: ConformanceHarness, verdicts: Verdicts, options: ResolvedOptions): Promise<void>;
}

/** Drives until the event `token` is stored; halts the scenario with KIT_DOES_NOT_FIRE if it never is. */
export async function expectFired(h: ConformanceHarness, token: string, what: string, options: ResolvedOptions): Promise<void> {
  if (await h.drive(() => h.stored(token).length > 0)) return;
  const attempts = h.attempts(token);
  const status = await h.statusOf();
  const why =
    attempts.length > 0
      ? `the provider called ctx.fire for it ${attempts.length} time(s) but no event was stored`
      : 'the provider never called ctx.fire for it';
  const state = status ? `; the feed is ${status.status}${status.reason ? ` (${status.reason})` : ''}` : '';
  throw new ScenarioHalt('KIT_DOES_NOT_FIRE', `${what}: the source produced event '${token}' and it did not fire within ${options.eventTimeoutMs} ms: ${why}${state}`);
}

/** A finding when the event `token` was stored more than once. */
export function expectStoredOnce(h: ConformanceHarness, verdicts: Verdicts, scenario: string, token: string, how: string): void {
  verdicts.judge('KIT_FIRES_TWICE');
  const stored = h.stored(token);
  if (stored.length <= 1) return;
  const ids = stored.map((p) => p.event.id).join(', ');
  verdicts.fail(
    'KIT_FIRES_TWICE',
    scenario,
    `event '${token}' ${how} was stored ${stored.length} times, under ids ${ids}: the provider fired it again with a new id. Give ctx.fire a deterministic id derived from the source's identity of the event (ctx.fire(data, { id })), so that the bus absorbs the repeat.`,
  );
}
