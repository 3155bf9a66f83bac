// Timing helpers shared by the runtime benchmarks.
import { defaultLimits, randomActivationId } from '../../packages/core/dist/index.js';

/** Runs `action` once on `runtime` and returns how long it took, in ms; a failed run throws. */
export async function timeRun(runtime, action, n) {
  const started = performance.now();
  const outcome = await runtime.run({ action, params: { n }, activationId: randomActivationId(), namespace: 'guest' });
  const elapsed = performance.now() - started;
  if (outcome.response.statusCode !== 0) throw new Error(`bench action failed: ${JSON.stringify(outcome.response)}`);
  return elapsed;
}

export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `n=… p50 … p99 … max …` of latency samples in ms. */
export function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (ms) => `${ms.toFixed(2)} ms`;
  return `n=${sorted.length} p50 ${f(percentile(sorted, 50))}  p99 ${f(percentile(sorted, 99))}  max ${f(sorted.at(-1))}`;
}

let revision = Date.now();

/** A trivial action, at a new revision each call (so that it never shares a warm container). */
export function trivialAction(memoryMb = defaultLimits().memory) {
  return {
    namespace: 'guest',
    name: 'bench',
    version: '0.0.1',
    publish: false,
    annotations: [],
    updated: ++revision,
    exec: { kind: 'nodejs:20', code: 'function main(params) { return { echo: params.n }; }', binary: false },
    parameters: [],
    limits: { ...defaultLimits(), memory: memoryMb },
  };
}

/**
 * Warm latency: `warmup` unmeasured runs of one action, then up to `runs` measured ones (within
 * `maxSeconds`). Returns the line to print.
 */
export async function measureWarm(runtime, action, { warmup, runs, maxSeconds }) {
  for (let i = 0; i < warmup; i++) await timeRun(runtime, action, i);
  const samples = [];
  const deadline = performance.now() + maxSeconds * 1000;
  const started = performance.now();
  for (let i = 0; i < runs && performance.now() < deadline; i++) samples.push(await timeRun(runtime, action, i));
  const seconds = (performance.now() - started) / 1000;
  return `${summary(samples)}  (${(samples.length / seconds).toFixed(0)} runs/s one at a time)`;
}

/** A replacement prewarm starts in the background: the next first run is measured only once it is up. */
export async function waitForPrewarm(runtime, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!runtime.stats().containers.some((c) => c.state === 'prewarm') && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
