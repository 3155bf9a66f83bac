import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import type { ActionRecord } from '@kindling/core';
import { ProcessRuntime, type ProcessRuntimeOptions } from '../process/process-runtime.js';
import { defaultProxyPath } from '../process/process-container-factory.js';
import { newActivationId, nodeAction } from '../test-support/actions.js';
import type { RunOutcome } from './action-runtime.js';
import { RuntimeOverloadedError } from './container.js';
import { eventually } from '@kindling/test-support';

const runtimes: ProcessRuntime[] = [];

async function startRuntime(options: ProcessRuntimeOptions): Promise<ProcessRuntime> {
  const runtime = new ProcessRuntime({ prewarm: [], pauseGraceMs: null, ...options });
  runtimes.push(runtime);
  await runtime.start();
  return runtime;
}

function run(runtime: ProcessRuntime, action: ActionRecord, params: Record<string, unknown> = {}): Promise<RunOutcome> {
  return runtime.run({ action, params, activationId: newActivationId(), namespace: 'guest' });
}

/**
 * Runs `work` with `inFlight` runs at a time, in its order, as the invoker does with its
 * consumer's in-flight bound; returns the outcomes in completion order.
 */
async function drive(runtime: ProcessRuntime, work: { action: ActionRecord; params: Record<string, unknown> }[], inFlight: number) {
  const completed: { action: string; outcome: RunOutcome; params: Record<string, unknown> }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const { action, params } = work[next++]!;
      completed.push({ action: action.name, params, outcome: await run(runtime, action, params) });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return completed;
}

const ECHO = 'function main(p) { return { i: p.i, pid: process.pid }; }';

describe('ContainerPool: a fair share of capacity per action', () => {
  beforeAll(() => {
    if (!existsSync(defaultProxyPath())) throw new Error('Build the runner first: npx tsc -b packages/runner');
  });

  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  it('runs 3 actions × 2,000 invocations sharing 4 containers once each, with a bounded number of cold starts and none starved', async () => {
    // Each action would like the 24 runs in flight to itself; the capacity holds 4 processes.
    const runtime = await startRuntime({ capacityMemoryMb: 4 * 256 });
    const actions = ['alpha', 'beta', 'gamma'].map((name) => nodeAction(name, ECHO));
    const perAction = 2_000;
    const work = Array.from({ length: perAction * actions.length }, (_, n) => ({ action: actions[n % actions.length]!, params: { i: Math.floor(n / actions.length) } }));
    const completed = await drive(runtime, work, 24);

    for (const action of actions) {
      const runs = completed.filter((entry) => entry.action === action.name);
      expect(runs.every((entry) => entry.outcome.response.statusCode === 0)).toBe(true);
      const indexes = runs.map((entry) => (entry.outcome.response.result as { i: number }).i).sort((a, b) => a - b);
      expect(indexes).toEqual(Array.from({ length: perAction }, (_, i) => i));
    }
    const { counters, actions: perActionStats } = runtime.stats();
    // One or two processes per action, never a cold start per run as when the pool thrashed.
    expect(counters.coldStarts).toBeLessThanOrEqual(6);
    expect(counters.evictions).toBeLessThanOrEqual(2);
    expect(counters.warmStarts).toBeGreaterThanOrEqual(3 * perAction - 6);
    expect(counters).toMatchObject({ queued: 0, inFlight: 0, rejected: 0 });
    expect(perActionStats).toHaveLength(3);
    for (const stats of perActionStats) expect(stats.containers).toBeGreaterThanOrEqual(1);
    // No action waited for the others to finish: each has its share of the first third of the completions.
    const firstThird = completed.slice(0, perAction);
    for (const action of actions) expect(firstThird.filter((entry) => entry.action === action.name).length).toBeGreaterThan(perAction / 6);
  }, 180_000);

  it('gives every action with waiting work a container, even when there are more actions than containers', async () => {
    const runtime = await startRuntime({ capacityMemoryMb: 2 * 256 });
    const actions = ['one', 'two', 'three'].map((name) => nodeAction(name, ECHO));
    const work = Array.from({ length: 60 }, (_, n) => ({ action: actions[n % 3]!, params: { i: n } }));
    const completed = await drive(runtime, work, 6);
    expect(completed).toHaveLength(60);
    expect(completed.every((entry) => entry.outcome.response.statusCode === 0)).toBe(true);
    expect(runtime.stats().memoryUsedMb).toBeLessThanOrEqual(2 * 256);
  }, 120_000);

  it('hands an idle action’s process to actions with work, and keeps their processes warm while their queues have work', async () => {
    const runtime = await startRuntime({ capacityMemoryMb: 2 * 256 });
    const busy = nodeAction('busy', ECHO);
    const other = nodeAction('other', ECHO);
    const stale = nodeAction('stale', ECHO);
    await run(runtime, stale);
    // `busy` keeps 8 runs in flight on its own: the pool grows it into the free slot, then the stale process.
    const load = drive(runtime, Array.from({ length: 400 }, (_, i) => ({ action: busy, params: { i } })), 8);
    const otherRuns = drive(runtime, Array.from({ length: 50 }, (_, i) => ({ action: other, params: { i } })), 1);
    const [busyDone, otherDone] = await Promise.all([load, otherRuns]);
    expect(busyDone.every((entry) => entry.outcome.response.statusCode === 0)).toBe(true);
    expect(otherDone.every((entry) => entry.outcome.response.statusCode === 0)).toBe(true);
    const stats = runtime.stats();
    // Two actions sharing two processes: one each once both have work, after a bounded number of moves.
    expect(stats.counters.coldStarts).toBeLessThanOrEqual(5);
    expect(stats.counters.evictions).toBeGreaterThanOrEqual(1);
    expect(stats.actions.map((a) => a.revision).filter((revision) => revision.includes('/stale@'))).toEqual([]);
    expect(stats.actions.find((a) => a.revision.includes('/busy@'))!.warmStarts).toBeGreaterThanOrEqual(395);
  }, 120_000);

  it('gives an action its first process even while another keeps a backlog on all of them', async () => {
    const runtime = await startRuntime({ capacityMemoryMb: 2 * 256 });
    const hog = nodeAction('hog', 'function main(p) { return new Promise((r) => setTimeout(() => r({ i: p.i }), 5)); }');
    const late = nodeAction('late', ECHO);
    let hogDone = 0;
    // Six runs in flight on two processes: the hog always has runs waiting.
    const hogLoad = drive(runtime, Array.from({ length: 600 }, (_, i) => ({ action: hog, params: { i } })), 6);
    const counting = setInterval(() => (hogDone = runtime.stats().actions.find((a) => a.revision.includes('/hog@'))?.warmStarts ?? 0), 5);
    await eventually(() => runtime.stats().counters.warmStarts > 20, 'the hog to be running');
    const lateRun = await run(runtime, late, { i: 1 });
    const hogDoneWhenLateRan = hogDone;
    clearInterval(counting);
    await hogLoad;
    expect(lateRun.response.statusCode).toBe(0);
    // It did not wait for the hog's 600 runs to drain.
    expect(hogDoneWhenLateRan).toBeLessThan(550);
  }, 120_000);

  it('refuses runs beyond the queue bound of an action with RuntimeOverloadedError, running none of them', async () => {
    const runtime = await startRuntime({ capacityMemoryMb: 256, maxQueuedPerAction: 3 });
    const slow = nodeAction('slow', 'async function main(p) { await new Promise((r) => setTimeout(r, 300)); return { i: p.i }; }');
    const runs = [0, 1, 2, 3].map((i) => run(runtime, slow, { i }).then((outcome) => outcome.response.result, (error: unknown) => error));
    const settled = await Promise.all(runs);
    // Three wait for the one process being started; the fourth is refused at once.
    expect(settled.slice(0, 3)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    expect(settled[3]).toBeInstanceOf(RuntimeOverloadedError);
    expect((settled[3] as RuntimeOverloadedError).code).toBe('KND_OVERLOADED');
    expect(runtime.stats().counters.rejected).toBe(1);
  });
});
