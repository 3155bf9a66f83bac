import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { eventually } from '@kindling/test-support';
import { newActivationId, nodeAction } from '../test-support/actions.js';
import { defaultProxyPath } from './process-container-factory.js';
import { ProcessRuntime } from './process-runtime.js';

const runtimes: ProcessRuntime[] = [];

async function startRuntime(): Promise<ProcessRuntime> {
  const runtime = new ProcessRuntime({ prewarm: [], pauseGraceMs: null });
  runtimes.push(runtime);
  await runtime.start();
  return runtime;
}

/**
 * Waits until `p.n` activations are inside `main` at once (a barrier: it cannot pass unless they
 * are in flight together in this process), logging before and after, and returns what it saw.
 */
const BARRIER = `
async function main(p) {
  const barrier = (globalThis.barrier ??= { waiting: [], inside: 0 });
  barrier.inside++;
  console.log('start', p.i);
  console.error('stderr of', p.i);
  await new Promise((resolve) => {
    barrier.waiting.push(resolve);
    if (barrier.waiting.length >= p.n) for (const release of barrier.waiting.splice(0)) release();
  });
  const together = barrier.inside;
  await new Promise((r) => setTimeout(r, 5 * (p.n - p.i)));
  process.stdout.write('end ');
  process.stdout.write(String(p.i) + '\\n');
  const seen = { i: p.i, id: process.env.__OW_ACTIVATION_ID, pid: process.pid, together };
  barrier.inside--;
  return seen;
}`;

describe('ProcessRuntime: limits.concurrency', () => {
  beforeAll(() => {
    if (!existsSync(defaultProxyPath())) throw new Error('Build the runner first: npx tsc -b packages/runner');
  });

  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  it('runs N activations at once in one process, each with its own params, __OW_ACTIVATION_ID, logs and result', async () => {
    const runtime = await startRuntime();
    const n = 10;
    const action = nodeAction('together', BARRIER, { limits: { concurrency: n } });
    const ids = Array.from({ length: n }, () => newActivationId());
    const outcomes = await Promise.all(ids.map((activationId, i) => runtime.run({ action, params: { i, n }, activationId, namespace: 'guest' })));

    outcomes.forEach((outcome, i) => {
      expect(outcome.response).toMatchObject({ statusCode: 0, result: { i, id: ids[i], together: n } });
      const lines = outcome.logs.map((line) => line.replace(/^\S+Z /, ''));
      // Each stream in order; stdout and stderr are two pipes, read as they come.
      expect(lines.filter((line) => line.startsWith('stdout:'))).toEqual([`stdout: start ${i}`, `stdout: end ${i}`]);
      expect(lines.filter((line) => line.startsWith('stderr:'))).toEqual([`stderr: stderr of ${i}`]);
      expect(lines).toHaveLength(3);
    });
    expect(new Set(outcomes.map((outcome) => outcome.containerId)).size).toBe(1);
    const { counters, containers } = runtime.stats();
    expect(counters).toMatchObject({ coldStarts: 1, inFlight: 0 });
    expect(containers).toMatchObject([{ state: 'idle', active: 0 }]);

    // Warm again: the same process takes the next N together.
    const again = await Promise.all(Array.from({ length: n }, (_, i) => runtime.run({ action, params: { i, n }, activationId: newActivationId(), namespace: 'guest' })));
    expect(again.every((outcome) => outcome.containerId === outcomes[0]!.containerId && outcome.response.statusCode === 0)).toBe(true);
    expect(runtime.stats().counters).toMatchObject({ coldStarts: 1, warmStarts: n });
  });

  it('never puts more than limits.concurrency activations in one process', async () => {
    const runtime = await startRuntime();
    const code = `
      async function main() {
        globalThis.inside = (globalThis.inside ?? 0) + 1;
        globalThis.peak = Math.max(globalThis.peak ?? 0, globalThis.inside);
        await new Promise((r) => setTimeout(r, 20));
        globalThis.inside--;
        return { peak: globalThis.peak };
      }`;
    const action = nodeAction('bounded', code, { limits: { concurrency: 3 } });
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => runtime.run({ action, params: {}, activationId: newActivationId(), namespace: 'guest' })));
    expect(outcomes.every((outcome) => outcome.response.statusCode === 0)).toBe(true);
    expect(Math.max(...outcomes.map((outcome) => (outcome.response.result as { peak: number }).peak))).toBeLessThanOrEqual(3);
    expect(runtime.stats().counters).toMatchObject({ queued: 0, inFlight: 0 });
  });

  it('gives a timed-out activation its timeout and the others their results, then destroys the drained process', async () => {
    const runtime = await startRuntime();
    // `hang` never ends; the others end after its deadline, well within their own.
    const code = `
      async function main(p) {
        if (p.hang) {
          globalThis.hangDeadline = Number(process.env.__OW_DEADLINE);
          console.log('hanging');
          return new Promise(() => {});
        }
        console.log('waiting for', p.i);
        await new Promise((r) => setTimeout(r, Math.max(0, globalThis.hangDeadline + 200 - Date.now())));
        return { i: p.i, id: process.env.__OW_ACTIVATION_ID };
      }`;
    const action = nodeAction('one-hangs', code, { limits: { concurrency: 4, timeout: 2_000 } });
    const hanging = runtime.run({ action, params: { hang: true }, activationId: newActivationId(), namespace: 'guest' });
    // Let the hanging one run first, so that the others' deadlines fall well after its own.
    await eventually(() => runtime.stats().containers[0]?.state === 'busy', 'the hanging activation to hold its process');
    await delay(1_000);
    const ids = [newActivationId(), newActivationId()];
    const others = ids.map((activationId, i) => runtime.run({ action, params: { i }, activationId, namespace: 'guest' }));

    const timedOut = await hanging;
    expect(timedOut.response).toMatchObject({ statusCode: 2, result: { error: 'The action exceeded its time limits of 2000 milliseconds.' } });
    expect(timedOut.timedOut).toBe(true);
    expect(timedOut.logs[0]).toMatch(/stdout: hanging$/);
    // The others still run in the process, which takes no new work.
    expect(runtime.stats().containers).toMatchObject([{ state: 'draining', active: 2 }]);

    const finished = await Promise.all(others);
    finished.forEach((outcome, i) => {
      expect(outcome.response).toMatchObject({ statusCode: 0, result: { i, id: ids[i] } });
      expect(outcome.containerId).toBe(timedOut.containerId);
      expect(outcome.logs.map((line) => line.replace(/^\S+Z /, ''))).toEqual([`stdout: waiting for ${i}`]);
    });
    expect(runtime.stats().containers).toEqual([]);
  });
});
