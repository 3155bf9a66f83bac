import type { Readable } from 'node:stream';
import { KindlingError, type ActionRecord } from '@kindling/core';
import type { ProxyClient } from './proxy-client.js';

/**
 * What a container backend implements so that {@link ContainerRuntime} can pool its
 * containers: the process runtime (a child process per container) and the Docker runtime.
 * The runtime does the rest — warm reuse per action revision, prewarm, capacity, timeouts,
 * logs, result mapping — identically for every backend.
 */
export interface ContainerFactory {
  /** Short name for logs and stats: `process`, `docker`. */
  readonly name: string;
  /**
   * The container an action needs. Throws an {@link ActionDeveloperError} when this backend
   * cannot run the action (an unknown kind, a blackbox image on the process runtime).
   * Two actions whose specs are equal (see {@link specKey}) can share a prewarmed container.
   */
  specFor(action: ActionRecord): ContainerSpec;
  /** The container a prewarm entry of `kind` needs (`nodejs:20`, 256 MB). */
  specForKind(kind: string, memoryMb: number): ContainerSpec;
  /**
   * Starts a container running the action proxy and resolves once the proxy accepts
   * connections (so that `/init` can be sent at once). Rejects when it cannot start; an
   * {@link ActionDeveloperError} makes that the action's fault (a missing image), anything
   * else is a whisk internal error.
   */
  create(spec: ContainerSpec): Promise<Container>;
  /** Removes what an earlier run of this backend left behind (containers, sockets, temp dirs). */
  removeOrphans?(): Promise<void>;
}

export interface ContainerSpec {
  /** What runs: a runtime image (`kindling/nodejs:20`), or `node` for this host's Node.js. */
  image: string;
  /** Memory limit in MB; also what the container counts against the pool's capacity. */
  memoryMb: number;
  /** Whether the container may use the network. Containers have none unless the action asks. */
  network: boolean;
}

/** Containers with equal keys are interchangeable before `/init`. */
export function specKey(spec: ContainerSpec): string {
  return `${spec.image}|${spec.memoryMb}|${spec.network ? 'net' : 'nonet'}`;
}

/** One running action proxy. */
export interface Container {
  /** Unique among the factory's containers (`process:1234`, a Docker container id). */
  readonly id: string;
  readonly spec: ContainerSpec;
  /** The proxy's HTTP endpoint (`/init`, `/run`). */
  readonly proxy: ProxyClient;
  /**
   * The proxy's stdout and stderr, as raw bytes. The runtime reads both for the container's
   * whole life (never pausing them), so a backend needs no buffering of its own.
   */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /**
   * Whether the proxy prints the end-of-activation sentinel (OpenWhisk's runtimes do; a blackbox
   * image may not). Without it, an activation's logs are what was read when its reply came.
   * Default true.
   */
  readonly sentinelledLogs?: boolean;
  /** Settles once when the container has stopped, for whatever reason. */
  readonly exited: Promise<ContainerExit>;
  /** Freezes an idle container (docker pause, SIGSTOP); optional. */
  pause?(): Promise<void>;
  resume?(): Promise<void>;
  /** Kills the container and frees what it holds; resolves once it is gone. Idempotent. */
  destroy(): Promise<void>;
}

export interface ContainerExit {
  code: number | null;
  signal: string | null;
  /** The container was killed for exceeding its memory limit. */
  oomKilled: boolean;
}

/**
 * The runtime stopped (or is stopping) under a run: the platform's doing, not the action's.
 * `ActionRuntime.run` rejects with it instead of recording a failure, so that the invocation
 * can be delivered again and run to completion elsewhere or after a restart.
 */
export class RuntimeStoppedError extends KindlingError {
  constructor(message = 'The action runtime stopped before the activation completed.') {
    super('KND_INTERNAL', message);
    this.name = 'RuntimeStoppedError';
  }
}

/**
 * The runtime refused a run because too many runs of its action already wait for a container:
 * nothing ran, and the caller should try again later (the invoker leaves the invocation on the
 * bus). The invoker never gets here, as it holds at most its `maxConcurrent` runs at once.
 */
export class RuntimeOverloadedError extends KindlingError {
  constructor(message: string) {
    super('KND_OVERLOADED', message);
    this.name = 'RuntimeOverloadedError';
  }
}

/**
 * A failure that is the action's fault (a kind this backend cannot run, an image that does not
 * exist): its activation is recorded as an `action developer error` with this message.
 */
export class ActionDeveloperError extends KindlingError {
  constructor(message: string, options: { cause?: unknown; field?: string } = {}) {
    super('KND_VALIDATION', message, options);
    this.name = 'ActionDeveloperError';
  }
}
