// @kindling/host: the feed host — runs providers' feeds under partition leases, from the feeds bucket — with the
// provider registry and the loader of provider packages. Named exports only.
export { FeedHost, type FeedHostOptions } from './feed-host.js';
export { FeedRepository, type Lease } from './feed-repository.js';
export { FEED_PARTITIONS, partitionOf } from './feed-partitions.js';
export { cursorValue } from './fenced-cursor.js';
export { guardedCall } from './guarded-call.js';
export { ProviderRegistry } from './provider-registry.js';
export { loadProviderPackage } from './load-provider.js';
