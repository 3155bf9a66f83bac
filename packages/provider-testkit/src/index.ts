export { runConformance, assertConformance } from './run-conformance.js';
export { describeProviderConformance, type TestApi } from './describe-conformance.js';
export { carriesToken, type ConformanceOptions, type ConformanceSource, type SourceContext } from './conformance-options.js';
export { ConformanceError, formatReport, type ConformanceReport } from './conformance-report.js';
export type { ConformanceFinding, RuleVerdict } from './verdicts.js';
export { RULES, RULE_IDS, type RuleId } from './rules.js';
export { FakeClock, settle, type FakeClockOptions, type PendingTimer } from './fake-clock.js';
export { FaultyBus, type EventFilter, type HungPublish, type PublishRecord } from './faulty-bus.js';
export { FaultyStore } from './faulty-store.js';
export { eventually, type EventuallyOptions, type Probe } from './eventually.js';
export { collectEvents, type CollectEventsOptions, type CollectedEvents } from './collect-events.js';
export { FeedHarness, openFeedHarness, type FeedHarnessOptions, type HarnessHostOptions } from './feed-harness.js';

// The host side a provider's own tests reach for (validating params as the API does, a feed
// record, the bus and store of a harness), so that a provider imports the SDK and this kit alone.
export { ProviderRegistry, FeedHost, FeedRepository, cursorValue } from '@kindling/host';
export { createCloudEvent, decodeJson, Streams, type EventBus, type FeedRecord, type KeyValueStore } from '@kindling/core';
export { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
