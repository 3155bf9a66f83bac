import type { TimerHandle } from '../clock.js';
import type { FeedRecord } from '../model/feed.js';
import type { FeedHandle } from '../sdk/types.js';

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
