#!/usr/bin/env node
// The container pool under a trigger-like load, through the process runtime directly (no bus,
// no store): RUNS invocations kept IN_FLIGHT at a time, as the invoker's consumer does, with
// the platform's pool (2 GB: eight 256 MB processes, one prewarmed).
// - 1, 3 and 6 trivial actions sharing the pool, invocations interleaved (one event, N rules):
//   runs/s and the pool's counters, the one-action case being the baseline;
// - a 5 ms action with limits.concurrency 1 vs 10, 40 in flight: runs/s and processes used.
// Medians of ROUNDS rounds, each on a fresh runtime. Needs `npm run build`.
import { loadavg } from 'node:os';
import { defaultLimits, randomActivationId } from '../packages/core/dist/index.js';
import { ProcessRuntime } from '../packages/runner/dist/index.js';
import { trivialAction } from './support/latency.js';

const RUNS = Number(process.env.BENCH_POOL_RUNS ?? 3000);
const IN_FLIGHT = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

let revision = Date.now();

function sleepyAction(concurrency) {
  return {
    ...trivialAction(),
    name: 'sleepy',
    updated: ++revision,
    exec: { kind: 'nodejs:20', code: 'function main(p) { return new Promise((r) => setTimeout(() => r({ n: p.n }), 5)); }', binary: false },
    limits: { ...defaultLimits(), concurrency },
  };
}

/** Runs `runs` invocations over `actions` in turn, `inFlight` at a time; returns runs/s and the pool's counters. */
async function load(actions, runs, inFlight) {
  const runtime = new ProcessRuntime({ prewarm: [{ kind: 'nodejs:20', memoryMb: 256, count: 1 }], pauseGraceMs: null });
  await runtime.start();
  try {
    let next = 0;
    const worker = async () => {
      while (next < runs) {
        const n = next++;
        const outcome = await runtime.run({ action: actions[n % actions.length], params: { n }, activationId: randomActivationId(), namespace: 'guest' });
        if (outcome.response.statusCode !== 0) throw new Error(`bench action failed: ${JSON.stringify(outcome.response)}`);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, worker));
    const seconds = (performance.now() - started) / 1000;
    const { counters } = runtime.stats();
    return { rate: runs / seconds, counters };
  } finally {
    await runtime.stop();
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function rounds(make, runs, inFlight) {
  const results = [];
  for (let round = 0; round < ROUNDS; round++) results.push(await load(make(), runs, inFlight));
  const rate = median(results.map((r) => r.rate));
  const cold = median(results.map((r) => r.counters.coldStarts));
  const evictions = median(results.map((r) => r.counters.evictions));
  const prewarm = median(results.map((r) => r.counters.prewarmStarts));
  return { rate, cold, evictions, prewarm };
}

const line = ({ rate, cold, evictions, prewarm }, baseline) =>
  `${rate.toFixed(0).padStart(6)} runs/s  (${(rate / baseline).toFixed(2)}× baseline)  cold starts ${cold}, prewarm starts ${prewarm}, evictions ${evictions}`;

console.log(`node ${process.version}, process runtime, ${RUNS} runs, median of ${ROUNDS}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const one = await rounds(() => [trivialAction()], RUNS, IN_FLIGHT);
console.log(`1 action,  ${IN_FLIGHT} in flight:                   ${line(one, one.rate)}`);
for (const count of [3, 6]) {
  const shared = await rounds(() => Array.from({ length: count }, () => trivialAction()), RUNS, IN_FLIGHT);
  console.log(`${count} actions, ${IN_FLIGHT} in flight, interleaved:      ${line(shared, one.rate)}`);
}
const serial = await rounds(() => [sleepyAction(1)], RUNS, 40);
console.log(`5 ms action, concurrency 1,  40 in flight: ${line(serial, serial.rate)}`);
const concurrent = await rounds(() => [sleepyAction(10)], RUNS, 40);
console.log(`5 ms action, concurrency 10, 40 in flight: ${line(concurrent, serial.rate)}`);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
