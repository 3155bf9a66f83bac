/** Desired state of a feed, written by the API; provider hosts reconcile towards it. */
export type FeedDesiredState = 'active' | 'paused' | 'deleted';

/** Observed state of a feed, written by the provider host that runs it. */
export type FeedStatusName = 'pending' | 'active' | 'paused' | 'failing' | 'disabled';

export interface FeedRecord {
  id: string;
  namespace: string;
  trigger: string;
  provider: string;
  kind: string;
  params: Record<string, unknown>;
  desired: FeedDesiredState;
  /** Bumped on every change of params or desired state; a running feed restarts on a new one. */
  generation: number;
  createdAt: number;
  updatedAt: number;
}

export interface FeedStatusRecord {
  feedId: string;
  status: FeedStatusName;
  reason?: string;
  /** When the feed entered this status. */
  since: number;
  /** Consecutive failures since the last success. */
  failures: number;
  /** The generation of the feed record this status describes. */
  generation: number;
  host?: string;
  fires: number;
  lastFireAt?: number;
  /** When the next retry is due while `failing`. */
  retryAt?: number;
}
