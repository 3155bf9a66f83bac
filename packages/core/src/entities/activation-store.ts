import type { ActivationRecord, ActivationStatusCode } from '../model/activation.js';

/** What `list` and `count` select; every bound is optional. */
export interface ActivationQuery {
  /** Only activations of this action or trigger name. */
  name?: string;
  /** Only activations with this outcome (0 success, 1 application error, 2 developer error, 3 internal error). */
  status?: ActivationStatusCode;
  /** Epoch ms bounds on the start time, both inclusive. */
  since?: number;
  upto?: number;
  /** `list` only: records to pass over (newest first), and at most how many to return (default 30). */
  skip?: number;
  limit?: number;
}

/** How long activation records are kept. */
export interface ActivationRetention {
  /** Records that started longer ago than this are pruned. */
  maxAgeMs: number;
  /** When set, only this many newest records per namespace are kept. */
  maxCountPerNamespace?: number;
}

/** What one `prune` step did: `done` is false when more is left to prune right now. */
export interface PruneStep {
  removed: number;
  done: boolean;
}

/**
 * Activation records: written on the hot path, queried by people, pruned by age. One contract,
 * checked by the suite in `test/contract/activation-store-contract.ts`, with an
 * implementation per engine: SQLite (embedded), PostgreSQL (deployments) and a bounded store
 * on a key-value bucket (NATS without PostgreSQL).
 *
 * - A record is stored under (namespace, activation id); writing the same id again replaces it.
 * - `list` is newest first by start time; a namespace's records are never seen through another.
 * - `prune(now)` does one small step of retention and says whether more is left, so that a
 *   pruner can run it continuously without long pauses.
 */
export interface ActivationStore {
  readonly retention: ActivationRetention;
  put(record: ActivationRecord): Promise<void>;
  /** Several records in one round trip or transaction: how the hot path writes in groups. */
  putMany(records: readonly ActivationRecord[]): Promise<void>;
  get(namespace: string, activationId: string): Promise<ActivationRecord | null>;
  list(namespace: string, query?: ActivationQuery): Promise<ActivationRecord[]>;
  /** How many records `list` would select without `skip` and `limit`. */
  count(namespace: string, query?: ActivationQuery): Promise<number>;
  prune(now: number): Promise<PruneStep>;
  close(): Promise<void>;
}

/** The default page size of `list`, as OpenWhisk's. */
export const DEFAULT_ACTIVATION_LIMIT = 30;
