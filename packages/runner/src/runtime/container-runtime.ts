import {
  activationResponse,
  actionRevision,
  defaultLimits,
  messageOf,
  silentLogger,
  MAX_RESULT_BYTES,
  type ActionLimits,
  type ActionRecord,
  type ActivationResponse,
  type CodeExec,
  type BlackboxExec,
  type Logger,
} from '@kindling/core';
import type { ActionRuntime, RunOutcome, RunRequest, RuntimeStats } from './action-runtime.js';
import { ActionDeveloperError, RuntimeOverloadedError, RuntimeStoppedError, type ContainerExit, type ContainerFactory } from './container.js';
import { ContainerPool, type ContainerLease, type PrewarmConfig } from './container-pool.js';
import { Messages } from './messages.js';
import type { ProxyReply } from './proxy-client.js';
import { initFailureResponse, runResponse } from './response-mapping.js';

export interface ContainerRuntimeOptions {
  factory: ContainerFactory;
  log?: Logger;
  /** Prewarmed containers per kind and memory. Default: none. */
  prewarm?: PrewarmConfig[];
  /** Total memory of all containers, in MB. Default 2048. */
  capacityMemoryMb?: number;
  /** Most containers at once. Default: no bound besides memory. */
  maxContainers?: number;
  /** Pause idle containers after this many ms (when the backend can); `null` never. Default 10 s. */
  pauseGraceMs?: number | null;
  /** Remove idle containers after this many ms. Default 10 minutes. */
  idleTimeoutMs?: number;
  /** Largest result, in bytes. Default 1 MB, as OpenWhisk. */
  maxResultBytes?: number;
  /** How long log collection waits for more output before giving up on the end-of-activation marker. Default 2 s. */
  logSilenceMs?: number;
  /** Runs that may wait for a container, per action revision; more are refused with `RuntimeOverloadedError`. Default 10,000. */
  maxQueuedPerAction?: number;
}

const MB = 1024 * 1024;
/** After a container is killed, how long its remaining output may take to drain. */
const DRAIN_AFTER_KILL_MS = 1_000;
/** After the proxy hung up, how long to wait for the container to report its exit (and why). */
const EXIT_REPORT_MS = 500;

type CallResult =
  | { kind: 'reply'; reply: ProxyReply }
  | { kind: 'timeout' }
  | { kind: 'exited'; exit: ContainerExit }
  | { kind: 'broken'; error: unknown };

/**
 * An {@link ActionRuntime} over a {@link ContainerPool}: `/init` once per container and action
 * revision, `/run` per activation, each bounded by the action's timeout (a container that
 * times out is killed); logs cut at the sentinel and capped; results capped; a container
 * whose activation ended in a developer or internal error is destroyed, as OpenWhisk does.
 */
export class ContainerRuntime implements ActionRuntime {
  readonly name: string;
  private readonly factory: ContainerFactory;
  private readonly pool: ContainerPool;
  private readonly log: Logger;
  private readonly maxResultBytes: number;
  private readonly logSilenceMs: number;
  private readonly capacityMemoryMb: number;
  private stopping = false;

  constructor(options: ContainerRuntimeOptions) {
    this.factory = options.factory;
    this.name = options.factory.name;
    this.log = options.log ?? silentLogger();
    this.maxResultBytes = options.maxResultBytes ?? MAX_RESULT_BYTES;
    this.logSilenceMs = options.logSilenceMs ?? 2_000;
    this.capacityMemoryMb = options.capacityMemoryMb ?? 2048;
    this.pool = new ContainerPool(
      options.factory,
      {
        capacityMemoryMb: this.capacityMemoryMb,
        maxContainers: options.maxContainers ?? Number.POSITIVE_INFINITY,
        prewarm: options.prewarm ?? [],
        pauseGraceMs: options.pauseGraceMs === undefined ? 10_000 : options.pauseGraceMs,
        idleTimeoutMs: options.idleTimeoutMs ?? 10 * 60_000,
        defaultLogLimitBytes: defaultLimits().logs * MB,
        maxQueuedPerAction: options.maxQueuedPerAction ?? 10_000,
      },
      this.log,
    );
  }

  start(): Promise<void> {
    return this.pool.start();
  }

  stop(): Promise<void> {
    this.stopping = true;
    return this.pool.stop();
  }

  stats(): RuntimeStats {
    return {
      runtime: this.name,
      containers: this.pool.snapshot(),
      memoryUsedMb: this.pool.memoryUsedMb,
      memoryCapacityMb: this.capacityMemoryMb,
      queued: this.pool.queued,
      counters: this.pool.counters(),
      actions: this.pool.actions(),
    };
  }

  async run(request: RunRequest): Promise<RunOutcome> {
    const requestedAt = request.requestedAt ?? Date.now();
    const { action } = request;
    const limits: ActionLimits = { ...defaultLimits(), ...action.limits };
    if (action.exec.kind === 'sequence') {
      return failedBeforeStart(requestedAt, activationResponse(3, { error: 'A sequence cannot run in a container; the invoker unfolds it.' }));
    }
    let lease: ContainerLease;
    try {
      lease = await this.pool.acquire({ revision: actionRevision(action), spec: this.factory.specFor(action), concurrency: limits.concurrency });
    } catch (error) {
      if (error instanceof RuntimeStoppedError || error instanceof RuntimeOverloadedError) throw error;
      return failedBeforeStart(requestedAt, this.startFailure(action, error));
    }
    if (limits.concurrency > 1) lease.logs.beginActivation(request.activationId, limits.logs * MB);
    else lease.logs.setLimit(limits.logs * MB);
    const exec = action.exec as CodeExec | BlackboxExec;
    let initTime: number | undefined;
    let start = Date.now();
    if (!lease.initialized) {
      const payload = { value: this.initPayload(request, exec, start + limits.timeout, limits.concurrency) };
      const result = await lease.initializeOnce(
        () => this.call(lease, '/init', payload, limits.timeout),
        (outcome) => outcome.kind === 'reply' && outcome.reply.status === 200,
      );
      const initEnd = Date.now();
      initTime = initEnd - start;
      await this.throwIfInterrupted(lease, result);
      const failure = this.initFailure(result, limits.timeout);
      if (failure) return this.finish(lease, request, { requestedAt, start, end: initEnd, initTime }, failure, result.kind === 'timeout');
    }
    const runStart = Date.now();
    if (initTime === undefined) start = runStart;
    const result = await this.call(lease, '/run', this.runPayload(request, runStart + limits.timeout), limits.timeout);
    await this.throwIfInterrupted(lease, result);
    const times = { requestedAt, start, end: Date.now(), initTime };
    return this.finish(lease, request, times, this.runOutcome(result, limits.timeout), result.kind === 'timeout');
  }

  private initPayload(request: RunRequest, exec: CodeExec | BlackboxExec, deadline: number, concurrency: number): Record<string, unknown> {
    const { action } = request;
    return {
      name: action.name,
      main: exec.main ?? 'main',
      code: exec.code,
      binary: exec.binary ?? false,
      env: {
        __OW_NAMESPACE: request.namespace,
        __OW_ACTION_NAME: `/${action.namespace}/${action.name}`,
        __OW_ACTION_VERSION: action.version,
        __OW_ACTIVATION_ID: request.activationId,
        __OW_DEADLINE: String(deadline),
        // OpenWhisk's switch for a Node.js runtime to accept several /run at once.
        ...(concurrency > 1 ? { __OW_ALLOW_CONCURRENT: 'true' } : {}),
      },
    };
  }

  private runPayload(request: RunRequest, deadline: number): Record<string, unknown> {
    const { action } = request;
    return {
      value: request.params,
      namespace: request.namespace,
      action_name: `/${action.namespace}/${action.name}`,
      action_version: action.version,
      activation_id: request.activationId,
      deadline: String(deadline),
      ...(request.transactionId ? { transaction_id: request.transactionId } : {}),
      ...(request.apiKey ? { api_key: request.apiKey } : {}),
    };
  }

  /** One request to the proxy, bounded by the action's time limit and the container's exit. */
  private async call(lease: ContainerLease, path: '/init' | '/run', body: unknown, timeoutMs: number): Promise<CallResult> {
    const { exitSignal } = lease;
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
    const onExit = () => abort.abort();
    exitSignal.addEventListener('abort', onExit, { once: true });
    try {
      if (exitSignal.aborted) return { kind: 'exited', exit: exitSignal.reason as ContainerExit };
      const reply = await lease.container.proxy.post(path, body, { signal: abort.signal, maxResponseBytes: this.maxResultBytes });
      return { kind: 'reply', reply };
    } catch (error) {
      if (timedOut) return { kind: 'timeout' };
      // The proxy hung up: find out whether the container died, and how.
      if (await abortedWithin(exitSignal, EXIT_REPORT_MS)) return { kind: 'exited', exit: exitSignal.reason as ContainerExit };
      return { kind: 'broken', error };
    } finally {
      clearTimeout(timer);
      exitSignal.removeEventListener('abort', onExit);
    }
  }

  /** A container killed by `stop` did not fail: the run was cut short and must not be recorded as a failure. */
  private async throwIfInterrupted(lease: ContainerLease, result: CallResult): Promise<void> {
    if (!this.stopping || result.kind === 'reply') return;
    await this.pool.discard(lease);
    throw new RuntimeStoppedError();
  }

  private initFailure(result: CallResult, timeoutMs: number): ActivationResponse | null {
    switch (result.kind) {
      case 'reply':
        return result.reply.status === 200 ? null : initFailureResponse(result.reply, this.maxResultBytes);
      case 'timeout':
        return activationResponse(2, { error: Messages.timedOut(timeoutMs, true) });
      case 'exited':
        return activationResponse(2, { error: result.exit.oomKilled ? Messages.memoryExhausted : Messages.abnormalInit });
      case 'broken':
        this.log.warn({ err: messageOf(result.error) }, 'the action proxy broke the connection during /init');
        return activationResponse(2, { error: Messages.abnormalInit });
    }
  }

  private runOutcome(result: CallResult, timeoutMs: number): ActivationResponse {
    switch (result.kind) {
      case 'reply':
        return runResponse(result.reply, this.maxResultBytes);
      case 'timeout':
        return activationResponse(2, { error: Messages.timedOut(timeoutMs, false) });
      case 'exited':
        return activationResponse(2, { error: result.exit.oomKilled ? Messages.memoryExhausted : Messages.abnormalRun });
      case 'broken':
        this.log.warn({ err: messageOf(result.error) }, 'the action proxy broke the connection during /run');
        return activationResponse(2, { error: Messages.abnormalRun });
    }
  }

  /** Collects the logs, then keeps the container warm, or destroys it after a developer or internal error. */
  private async finish(
    lease: ContainerLease,
    request: RunRequest,
    times: { requestedAt: number; start: number; end: number; initTime: number | undefined },
    response: ActivationResponse,
    timedOut: boolean,
  ): Promise<RunOutcome> {
    let logs: string[];
    const concurrent = (request.action.limits.concurrency ?? 1) > 1;
    if (response.statusCode >= 2) {
      await this.pool.discard(lease);
      // A timed-out activation prints no end marker: take what it printed (its container may live on for the others).
      if (concurrent) logs = await lease.logs.collectActivationRemaining(request.activationId, timedOut ? 0 : DRAIN_AFTER_KILL_MS);
      else logs = await lease.logs.collectRemaining(DRAIN_AFTER_KILL_MS);
      logs.push(`${new Date().toISOString()} stderr: ${Messages.logWarningDeveloperError}`);
    } else {
      const sentinelled = lease.container.sentinelledLogs ?? true;
      if (concurrent && sentinelled) logs = await lease.logs.collectActivation(request.activationId, this.logSilenceMs);
      else logs = await lease.logs.collect(this.logSilenceMs, sentinelled);
      this.pool.release(lease);
    }
    const outcome: RunOutcome = {
      response,
      logs,
      start: times.start,
      end: times.end,
      waitTime: Math.max(0, times.start - times.requestedAt),
      timedOut,
      containerId: lease.container.id,
    };
    if (times.initTime !== undefined) outcome.initTime = times.initTime;
    return outcome;
  }

  private startFailure(action: ActionRecord, error: unknown): ActivationResponse {
    if (error instanceof ActionDeveloperError) return activationResponse(2, { error: error.message });
    this.log.error({ action: `/${action.namespace}/${action.name}`, err: messageOf(error) }, 'could not start a container');
    return activationResponse(3, { error: `Failed to start a container for the action: ${messageOf(error)}` });
  }
}

function abortedWithin(signal: AbortSignal, ms: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (aborted: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(aborted);
    };
    const onAbort = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function failedBeforeStart(requestedAt: number, response: ActivationResponse): RunOutcome {
  const now = Date.now();
  return { response, logs: [], start: now, end: now, waitTime: Math.max(0, now - requestedAt), timedOut: false };
}
