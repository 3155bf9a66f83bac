import type { ActionRecord, ActivationResponse } from '@kindling/core';
import type { ActionPoolStats, ContainerSnapshot, PoolCounters } from './container-pool.js';

/**
 * Runs single activations of code actions (Node.js source or a blackbox image). The invoker
 * and `runAction` depend on this interface only; `ContainerRuntime` implements it over any
 * container backend (`ProcessRuntime`, the Docker runtime).
 */
export interface ActionRuntime {
  /** Short name for logs: `process`, `docker`. */
  readonly name: string;
  /** Removes orphans of an earlier run and starts prewarmed containers; resolves when they are up. */
  start(): Promise<void>;
  /**
   * Runs one activation. Never rejects because of the action: its failures, and the
   * platform's (a container that cannot start), come back as a {@link RunOutcome} with
   * OpenWhisk's status. Rejects only when the action did not run and should be retried: with
   * a `RuntimeStoppedError` when the runtime stops before the run completes, with a
   * `RuntimeOverloadedError` when too many runs of the action already wait.
   */
  run(request: RunRequest): Promise<RunOutcome>;
  /** Destroys every container; runs in flight reject with `RuntimeStoppedError`. */
  stop(): Promise<void>;
  stats(): RuntimeStats;
}

export interface RunRequest {
  /** A code or blackbox action (sequences are unfolded by the invoker). */
  action: ActionRecord;
  /** The merged parameters, given to `main`. */
  params: Record<string, unknown>;
  activationId: string;
  /** The invoking namespace (`__OW_NAMESPACE`). */
  namespace: string;
  /** Epoch ms at which the activation was requested; `waitTime` counts from it. Default: now. */
  requestedAt?: number;
  transactionId?: string;
  /** `uuid:key` given to the action as `__OW_API_KEY` (only when it asks, with `provide-api-key`). */
  apiKey?: string;
}

export interface RunOutcome {
  response: ActivationResponse;
  /** Formatted log lines, `<ISO time> stdout: <text>`. */
  logs: string[];
  /** Epoch ms: start of `/init` on a cold run, else of `/run`. */
  start: number;
  end: number;
  /** Milliseconds `/init` took, on runs that initialized their container. */
  initTime?: number;
  /** Milliseconds from the request to the start. */
  waitTime: number;
  /** The run (or its init) hit the action's time limit. */
  timedOut: boolean;
  /** The container that ran it, when one did. */
  containerId?: string;
}

export interface RuntimeStats {
  runtime: string;
  containers: ContainerSnapshot[];
  memoryUsedMb: number;
  memoryCapacityMb: number;
  /** Runs waiting for capacity. */
  queued: number;
  /** Cold, prewarm and warm starts, evictions, refusals since the start; runs queued and in flight now. */
  counters: PoolCounters;
  /** The same per action revision that has runs waiting or in flight, or containers. */
  actions: ActionPoolStats[];
}
