export { RuleEngine, type RuleEngineOptions, type RuleEngineMetrics } from './rule-engine.js';
export { compileRuleFilter, type RuleFilter } from './rule-filter.js';
export { payloadParams } from './trigger-event.js';
