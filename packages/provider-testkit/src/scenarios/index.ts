import type { RuleId } from '../rules.js';
import { cursorFaultScenario } from './cursor-fault.js';
import { lifecycleScenario } from './lifecycle.js';
import { publishFaultScenario } from './publish-fault.js';
import { restartScenario } from './restart.js';
import type { Scenario } from './scenario.js';
import { stopDuringPublishScenario } from './stop-during-publish.js';

export type { Scenario } from './scenario.js';

/** Every scenario, in the order the kit plays them. */
export const SCENARIOS: readonly Scenario[] = [lifecycleScenario, restartScenario, cursorFaultScenario, publishFaultScenario, stopDuringPublishScenario];

/**
 * The scenarios needed to judge `rules`: those that judge one of them specially; rules every
 * scenario checks (leaks, secrets, throws, stops) need only the lifecycle.
 */
export function scenariosFor(rules: readonly RuleId[] | undefined): readonly Scenario[] {
  if (!rules) return SCENARIOS;
  const chosen = SCENARIOS.filter((scenario) => scenario.judges.some((rule) => rules.includes(rule)));
  return chosen.length > 0 ? chosen : [lifecycleScenario];
}
