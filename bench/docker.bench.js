#!/usr/bin/env node
// Latency of the Docker runtime, measured through the runtime directly (no bus, no store), on the
// offline Node.js image (built first if missing):
// - cold: the first run of a new action with no prewarm (create + start + listen + init + run);
// - prewarmed: the first run of a new action taken by a prewarmed container (init + run);
// - warm: one trivial action run WARM_RUNS times in a row on its warm container, p50/p99/max;
// - throughput: CALLERS callers in a loop on as many warm containers of one action;
// - for scale, the engine alone: create, start and wait for a container running `node -e 0`.
// Each cold or prewarmed sample is a new revision of the action. Bounded: at most the counts
// below and MAX_SECONDS per phase; every container is removed at the end (its own instance
// label, so an interrupted run is cleaned up by the next). Needs `npm run build` and an engine.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { measureWarm, summary, timeRun, trivialAction, waitForPrewarm } from './support/latency.js';
import { createDockerRuntime, dockerAvailable, ensureLocalNodeRuntimeImage } from '../packages/runtime-docker/dist/index.js';

const WARM_RUNS = Number(process.env.BENCH_WARM_RUNS ?? 2000);
const WARMUP_RUNS = 200;
const FIRST_RUN_SAMPLES = Number(process.env.BENCH_COLD_RUNS ?? 15);
const CALLERS = 4;
const THROUGHPUT_SECONDS = 5;
const MAX_SECONDS = 30;
const INSTANCE = 'bench';

async function withRuntime(options, body) {
  // The first start removes whatever an interrupted bench left under this instance.
  const runtime = createDockerRuntime({ nodeImage, instance: INSTANCE, pauseGraceMs: null, prewarm: [], capacityMemoryMb: 128 * 64, ...options });
  await runtime.start();
  try {
    return await body(runtime);
  } finally {
    await runtime.stop();
  }
}

async function warm() {
  await withRuntime({}, async (runtime) => {
    const line = await measureWarm(runtime, trivialAction(128), { warmup: WARMUP_RUNS, runs: WARM_RUNS, maxSeconds: MAX_SECONDS });
    console.log(`warm run (runtime.run, trivial action):       ${line}`);
  });
}

async function throughput() {
  await withRuntime({}, async (runtime) => {
    const action = trivialAction(128);
    // Warm CALLERS containers of the action: concurrent runs each take one.
    for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: CALLERS }, (_, c) => timeRun(runtime, action, c)));
    let runs = 0;
    const deadline = performance.now() + THROUGHPUT_SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, c) => {
        while (performance.now() < deadline) {
          await timeRun(runtime, action, c);
          runs++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const containers = runtime.stats().containers.length;
    console.log(`warm throughput (${CALLERS} callers, ${containers} containers):       ${(runs / seconds).toFixed(0)} runs/s`);
  });
}

async function firstRuns(label, prewarm) {
  await withRuntime({ prewarm: prewarm ? [{ kind: 'nodejs:20', memoryMb: 128, count: 1 }] : [] }, async (runtime) => {
    const samples = [];
    const deadline = performance.now() + MAX_SECONDS * 1000;
    for (let i = 0; i < FIRST_RUN_SAMPLES && performance.now() < deadline; i++) {
      if (prewarm) await waitForPrewarm(runtime, 20_000);
      samples.push(await timeRun(runtime, trivialAction(128), i));
    }
    console.log(`${label}${summary(samples)}`);
  });
}

/** For scale: what the engine alone takes to create, start and run `node -e 0` to its end, then remove it. */
async function engineFloor() {
  const samples = [];
  const deadline = performance.now() + MAX_SECONDS * 1000;
  for (let i = 0; i < FIRST_RUN_SAMPLES && performance.now() < deadline; i++) {
    const started = performance.now();
    const container = await docker.createContainer({
      Image: nodeImage,
      Entrypoint: ['/usr/bin/node', '-e', '0'],
      Labels: { 'dev.kindling.runner': INSTANCE },
      HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'none', Config: {} } },
    });
    await container.start();
    await container.wait();
    samples.push(performance.now() - started);
    await container.remove({ force: true });
  }
  console.log(`engine floor (create + start + node -e 0):   ${summary(samples)}`);
}


const docker = new Dockerode();
if (!(await dockerAvailable(docker))) {
  console.log('docker runtime bench: no Docker engine answers; skipped');
  process.exit(0);
}
const { tag: nodeImage } = await ensureLocalNodeRuntimeImage({ docker });
console.log(`node ${process.version}, Docker runtime on ${nodeImage}, ${(await docker.info()).NCPU} CPUs`);
await warm();
await throughput();
await firstRuns('prewarmed first run (init + run):             ', true);
await firstRuns('cold start (create + start + init + run):     ', false);
await engineFloor();
// The runtime's socket directories went with their containers; their (empty) root goes too.
await rm(join(tmpdir(), 'kindling-docker', INSTANCE), { recursive: true, force: true });
