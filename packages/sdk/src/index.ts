// @kindling/sdk: everything a feed provider imports, and nothing else. Named exports only; each is
// part of the SDK's semver contract. The foundations (errors, logging, validation, clock, ids,
// CloudEvents, zod) live in @kindling/core and are re-exported here, so a provider depends on this
// package alone.

/** The SDK version this package implements; a provider declares it as `sdkVersion`. */
export { SDK_VERSION } from './types.js';
/** The SDK versions a host built from this package can run. */
export { SUPPORTED_SDK_VERSIONS } from './types.js';
/** What a provider package exports: a name, an `sdkVersion` and its feed kinds. */
export type { ProviderDefinition } from './types.js';
/** One kind of feed: its zod params schema, which params are secret, `start`, optional `validate` and `teardown`. */
export type { FeedKindDefinition } from './types.js';
/** The feed being started: id, kind, parsed params, namespace, trigger, generation. */
export type { FeedInstance } from './types.js';
/** What `start` returns: `stop()` and, for webhook feeds, `hook()`. */
export type { FeedHandle } from './types.js';
/** Options of `ctx.fire`: the event id (for de-duplication), subject, time and extensions. */
export type { FireOptions } from './types.js';
/** What `ctx.fire` resolves to: the event published and whether the bus had it already. */
export type { FireReceipt } from './types.js';
/** A feed's durable cursor (`ctx.cursor`): where to resume after a restart. */
export type { CursorStore } from './types.js';
/** Resources shared by the feeds of one process (`ctx.resources`), released when the last user stops. */
export type { SharedResources } from './types.js';
/** What `validate` receives besides the params. */
export type { ValidateContext } from './types.js';
/** What `teardown` receives when a feed is deleted. */
export type { TeardownContext } from './types.js';
/** What a running feed gets from its host: fire, cursor, log, clock, signal, resources, fail/degraded/healthy/complete. */
export type { FeedContext } from './types.js';
/** Options of `ctx.complete`. */
export type { CompleteOptions } from './types.js';
/** An HTTP request delivered to a webhook feed's `hook()`. */
export type { HookRequest } from './types.js';
/** What a webhook feed's `hook()` answers. */
export type { HookResponse } from './types.js';

/** A feed failure: retryable or permanent, with a registered code; the host turns it into the feed's status. */
export { FeedError } from './feed-error.js';
/** Bad feed parameters found by the provider's own checks: a 400 when the feed is created. */
export { FeedParamError } from './feed-error.js';
/** Thrown by `ctx.fire` once the feed has been stopped. */
export { FeedStoppedError } from './feed-error.js';

/** Declares a feed kind, its params type inferred from its schema. */
export { defineFeedKind } from './define-provider.js';
/** Declares a provider and checks its shape at once. */
export { defineProvider } from './define-provider.js';
/** Checks that a value is a provider definition this SDK supports; throws `KND_PROVIDER_LOAD` naming what is wrong. */
export { assertProvider } from './define-provider.js';

/** Exponential backoff with jitter: the delay before retry number `attempt`. */
export { backoffDelay } from '@kindling/core';
/** Bounds of `backoffDelay`: initial and maximum delay, factor, jitter. */
export type { BackoffOptions } from '@kindling/core';

/** The polling pattern: a `start` that polls on the feed's clock, fires what it finds and keeps a cursor. */
export { polling } from './patterns.js';
/** Options of `polling`. */
export type { PollingOptions } from './patterns.js';
/** What one poll returns: the events and the next cursor. */
export type { PollResult } from './patterns.js';
/** One event found by a poll. */
export type { PolledEvent } from './patterns.js';
/** The webhook pattern: a `start` whose handle answers the feed's hook requests. */
export { hook } from './patterns.js';
/** The connection pattern: a `start` that opens a connection, keeps it, and closes it on stop. */
export { connection } from './patterns.js';
/** Options of `connection`. */
export type { ConnectionOptions } from './patterns.js';

/** Compiles a tenant's MongoDB query into a filter that may query, never run code (rules, feed `filter` params). */
export { compileQueryFilter } from './query-filter.js';
/** A compiled query filter. */
export type { QueryFilter } from './query-filter.js';

/** What a secret feed parameter reads as wherever it is shown. */
export { SECRET_MASK } from './secret-mask.js';

/** zod, the one schema library: a feed kind's `params` is a zod schema. */
export { z } from '@kindling/core';
/** The platform's error: a registered code, a message, and whether it may be retried. */
export { KindlingError } from '@kindling/core';
/** Options of `KindlingError`: cause, details, retryable. */
export type { KindlingErrorOptions } from '@kindling/core';
/** The registered error codes. */
export type { ErrorCode } from '@kindling/core';
/** True for a `KindlingError` (also one from another copy of the package). */
export { isKindlingError } from '@kindling/core';
/** The message of anything thrown. */
export { messageOf } from '@kindling/core';
/** Parses a value with a zod schema; bad input becomes a `KND_VALIDATION` error naming the field. */
export { parseWith } from '@kindling/core';
/** The structured (pino) logger a feed gets as `ctx.log`. */
export type { Logger } from '@kindling/core';
/** Creates a logger, secrets redacted. */
export { createLogger } from '@kindling/core';
/** A logger that writes nothing (for tests and tools). */
export { silentLogger } from '@kindling/core';
/** Replaces each secret in a text with a mask: for error messages that may quote a connection string. */
export { scrubSecrets } from '@kindling/core';
/** The secret parts of a connection string (the whole string, its password and user info, encoded and decoded). */
export { connectionSecrets } from '@kindling/core';
/** An error whose message has every secret of a connection string removed: safe to log and store. */
export { scrubbedError } from '@kindling/core';
/** The clock a feed gets as `ctx.clock`: all its timers go through it so a test can drive time. */
export type { Clock } from '@kindling/core';
/** A timer set on a `Clock`. */
export type { TimerHandle } from '@kindling/core';
/** Waits on a clock, ending early (rejecting) when the signal aborts. */
export { sleep } from '@kindling/core';
/** A map bounded in size, evicting the entry set longest ago: for a provider's caches. */
export { BoundedCache } from '@kindling/core';
/** The real clock. */
export { systemClock } from '@kindling/core';
/** The CloudEvents 1.0 envelope of every event a feed fires. */
export type { CloudEvent } from '@kindling/core';
/** A random id. */
export { randomId } from '@kindling/core';
/** An id derived from its parts: the same source record gives the same event id, so a replay is de-duplicated. */
export { deterministicId } from '@kindling/core';
