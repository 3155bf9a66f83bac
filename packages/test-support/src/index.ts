// @kindling/test-support: what the repository's own tests share. Private, never published.
export { describeIf, describeWithNats, describeWithService, NATS_URL, serviceAvailable } from './services.js';
export { openwhiskClient, type FeedActivation, type OpenWhiskClient } from './openwhisk-client.js';
export { eventually, FakeClock, settle, type EventuallyOptions, type FakeClockOptions, type PendingTimer, type Probe } from '@kindling/provider-testkit';
