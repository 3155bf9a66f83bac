export { runConformance, assertConformance } from './run-conformance.js';
export { describeProviderConformance, type TestApi } from './describe-conformance.js';
export { carriesToken, type ConformanceOptions, type ConformanceSource, type SourceContext } from './conformance-options.js';
export { ConformanceError, formatReport, type ConformanceReport } from './conformance-report.js';
export type { ConformanceFinding, RuleVerdict } from './verdicts.js';
export { RULES, RULE_IDS, type RuleId } from './rules.js';
export { FakeClock, settle, type FakeClockOptions, type PendingTimer } from './fake-clock.js';
export { FaultyBus, type EventFilter, type HungPublish, type PublishRecord } from './faulty-bus.js';
export { FaultyStore } from './faulty-store.js';
