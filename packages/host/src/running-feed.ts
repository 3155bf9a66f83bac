import type { FeedRecord, TimerHandle } from '@kindling/core';
import type { FeedHandle } from '@kindling/sdk';

/** A feed started on this host, from its start until it has stopped. */
export interface RunningFeed {
  record: FeedRecord;
  abort: AbortController;
  handle?: FeedHandle;
  stopping?: Promise<void>;
  stableTimer?: TimerHandle;
  /** Resolves once `start` has returned (or failed). */
  started?: Promise<void>;
  /** The reason of the last `degraded` not followed by `healthy`: a feed can report it during start. */
  degradedReason?: string;
  /** Status changes from `degraded`/`healthy`, in call order, so that a quick flip lands in order. */
  statusChanges?: Promise<void>;
}
