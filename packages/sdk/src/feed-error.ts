import { KindlingError, type KindlingErrorOptions } from '@kindling/core';

/**
 * What a provider throws (or passes to `ctx.fail`) when its feed cannot go on. A retryable error
 * puts the feed in `failing` and the host restarts it with backoff; an unrecoverable one
 * (revoked credentials, a deleted source) puts it in `disabled` with the message as reason.
 */
export class FeedError extends KindlingError {
  readonly retryable: boolean;

  constructor(message: string, options: KindlingErrorOptions & { retryable?: boolean } = {}) {
    super('KND_FEED_FAILED', message, options);
    this.name = 'FeedError';
    this.retryable = options.retryable ?? true;
  }
}

/** Bad feed parameters found by a provider's own checks (beyond its schema): a 400 at CREATE. */
export class FeedParamError extends KindlingError {
  constructor(field: string, message: string) {
    super('KND_BAD_FEED_PARAMS', `'${field}': ${message}`, { field });
    this.name = 'FeedParamError';
  }
}

/** Thrown by `ctx.fire` once the feed has been stopped: a stopped feed must not fire. */
export class FeedStoppedError extends KindlingError {
  constructor(feedId: string) {
    super('KND_FEED_FAILED', `feed ${feedId} is stopped and cannot fire`);
    this.name = 'FeedStoppedError';
  }
}
