#!/usr/bin/env node
// Latency of the process runtime, measured through the runtime directly (no bus, no store):
// - warm: one trivial action run WARM_RUNS times in a row on its warm process, p50/p99/max and
//   the rate this gives (one at a time);
// - prewarmed: the first run of a new action taken by a prewarmed process (init + run);
// - cold: the first run of a new action with no prewarm (process start + init + run).
// Each cold or prewarmed sample is a new revision of the action. Bounded: at most the counts
// below and MAX_SECONDS per phase. Needs `npm run build`.
import { measureWarm, summary, timeRun, trivialAction, waitForPrewarm } from './support/latency.js';
import { ProcessRuntime } from '../packages/runner/dist/index.js';

const WARM_RUNS = Number(process.env.BENCH_WARM_RUNS ?? 3000);
const WARMUP_RUNS = 200;
const FIRST_RUN_SAMPLES = Number(process.env.BENCH_COLD_RUNS ?? 20);
const MAX_SECONDS = 30;

async function warm() {
  const runtime = new ProcessRuntime({ prewarm: [], pauseGraceMs: null });
  await runtime.start();
  try {
    const line = await measureWarm(runtime, trivialAction(), { warmup: WARMUP_RUNS, runs: WARM_RUNS, maxSeconds: MAX_SECONDS });
    console.log(`warm run (runtime.run, trivial action):     ${line}`);
  } finally {
    await runtime.stop();
  }
}

async function firstRuns(label, prewarm) {
  // Room for every sample's process, so that no first run waits for an eviction.
  const capacityMemoryMb = (FIRST_RUN_SAMPLES + 2) * 256;
  const runtime = new ProcessRuntime({ prewarm: prewarm ? [{ kind: 'nodejs:20', memoryMb: 256, count: 1 }] : [], pauseGraceMs: null, capacityMemoryMb });
  await runtime.start();
  try {
    const samples = [];
    const deadline = performance.now() + MAX_SECONDS * 1000;
    for (let i = 0; i < FIRST_RUN_SAMPLES && performance.now() < deadline; i++) {
      if (prewarm) await waitForPrewarm(runtime, 10_000);
      samples.push(await timeRun(runtime, trivialAction(), i));
    }
    console.log(`${label}${summary(samples)}`);
  } finally {
    await runtime.stop();
  }
}


console.log(`node ${process.version}, process runtime, actions on this host's Node.js`);
await warm();
await firstRuns('prewarmed first run (init + run):           ', true);
await firstRuns('cold start (spawn + listen + init + run):   ', false);
