#!/usr/bin/env node
// Alarms scheduler at scale: 10,000 and 100,000 interval feeds on one timer queue, spread over a
// 10 s interval (so ~1,000 and ~10,000 fires/s), run through the provider's real start() with a
// feed context of our own. Two sinks:
//   sink — fire resolves at once and the cursor is kept in memory: the scheduler alone;
//   nats — fire is a durable JetStream publish (Nats-Msg-Id, file storage, pipelined through the
//          scope of @kindling/nats), the cursor in memory: the scheduler plus the real bus.
// Reported: lateness (fire call − scheduled time; for nats also ack − scheduled), skipped fires
// (a feed whose consecutive fires are more than one interval apart, or that is behind at the
// end; must be 0), fires/s, CPU per fire, start time, RSS and heap, and — to tell the scheduler's
// lateness from the machine's — the event loop's own delay p99 and the load average. Each run is
// its own process, bounded in time.
//
//   node bench/alarms.bench.js                 # sink 10k and 100k, nats 10k (skipped if NATS is down)
//   node bench/alarms.bench.js nats 100000     # one run
//   ALARMS_BENCH_SECONDS=30 node bench/alarms.bench.js
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createCloudEvent, encodeJson, randomId, silentLogger, Subjects, systemClock } from '@kindling/core';
import { alarmsProvider } from '@kindling/alarms';

const PERIOD_S = 10;
const MEASURE_S = Number(process.env.ALARMS_BENCH_SECONDS ?? 25);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const SIZES = [10_000, 100_000];

const mb = (bytes) => Math.round(bytes / 1048576);

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function natsUp() {
  const url = new URL(NATS_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 4222) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** One measured run, in this process: `feeds` interval feeds firing into `sinkName`. */
async function run(sinkName, feeds) {
  const periodMs = PERIOD_S * 1000;
  const capacity = Math.ceil(feeds * (MEASURE_S / PERIOD_S + 2));
  const schedLate = new Float64Array(capacity);
  const ackLate = sinkName === 'nats' ? new Float64Array(capacity) : undefined;
  let fires = 0;
  let acks = 0;
  const lastSlot = new Float64Array(feeds);
  let skipped = 0;
  let measuring = false;

  let backend;
  let publish = async () => undefined;
  if (sinkName === 'nats') {
    const { connectNatsBackend } = await import('@kindling/nats');
    backend = await connectNatsBackend({ servers: NATS_URL, scope: `bench-alarms-${randomId(3)}`, log: silentLogger() });
    publish = async (feedId, event) => {
      await backend.bus.publish(Subjects.event('bench', `t${feedId}`), encodeJson(event), { msgId: `${feedId}:${event.id}` });
    };
  }

  const onFire = (index, scheduled) => {
    if (!measuring) return;
    const previous = lastSlot[index];
    if (previous !== 0 && scheduled - previous > periodMs) skipped += Math.round((scheduled - previous) / periodMs) - 1;
    lastSlot[index] = scheduled;
    if (fires < capacity) schedLate[fires] = Date.now() - scheduled;
    fires++;
  };

  const pool = new Map();
  const cursors = new Map();
  const log = silentLogger();
  const contextFor = (index, feedId, abort) => ({
    async fire(data, options = {}) {
      const scheduled = new Date(options.time).getTime();
      onFire(index, scheduled);
      const event = createCloudEvent({ namespace: 'bench', trigger: `t${index}`, data, id: options.id, time: options.time });
      await publish(feedId, event);
      if (ackLate && measuring && acks < capacity) ackLate[acks++] = Date.now() - scheduled;
      return { event, duplicate: false };
    },
    cursor: {
      get: async () => cursors.get(feedId),
      set: async (value) => void cursors.set(feedId, value),
    },
    log,
    signal: abort.signal,
    clock: systemClock,
    resources: {
      async acquire(key, create) {
        if (!pool.has(key)) pool.set(key, create());
        return pool.get(key);
      },
    },
    hookUrl: '',
    fail: (error) => console.error(`feed ${feedId} failed: ${error?.message ?? error}`),
    degraded() {},
    healthy() {},
  });

  globalThis.gc?.();
  const baseline = process.memoryUsage();
  const startedAt = performance.now();
  const handles = [];
  const aborts = [];
  for (let i = 0; i < feeds; i++) {
    const feedId = `feed-${i}`;
    const abort = new AbortController();
    aborts.push(abort);
    const instance = { id: feedId, namespace: 'bench', trigger: `t${i}`, provider: 'alarms', kind: 'interval', params: { seconds: PERIOD_S }, generation: 1 };
    handles.push(await alarmsProvider.kinds.interval.start(instance, contextFor(i, feedId, abort)));
    // A host starts feeds between other work (store reads): let the timers of started feeds run.
    if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  const startMs = performance.now() - startedAt;
  globalThis.gc?.();
  const loaded = process.memoryUsage();

  // One interval to settle (the first fires of each feed), then measure.
  await new Promise((resolve) => setTimeout(resolve, periodMs));
  measuring = true;
  const measureStart = Date.now();
  const cpuStart = process.cpuUsage();
  const loadAtStart = loadavg()[0];
  // How late the event loop itself runs (GC, CPU stolen by other processes): the floor under lateness.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);
  await new Promise((resolve) => setTimeout(resolve, MEASURE_S * 1000));
  measuring = false;
  const measureEnd = Date.now();
  const cpu = process.cpuUsage(cpuStart);
  loopDelay.disable();
  clearInterval(sampler);

  // Behind at the end: a feed whose due slot (more than 1 s before the end) has not fired yet.
  let behind = 0;
  for (let i = 0; i < feeds; i++) {
    const last = lastSlot[i];
    if (last === 0) {
      behind++;
      continue;
    }
    behind += Math.max(0, Math.floor((measureEnd - 1000 - last) / periodMs));
  }

  for (const abort of aborts) abort.abort();
  await Promise.all(handles.map((h) => h.stop()));
  globalThis.gc?.();
  const end = process.memoryUsage();
  if (backend) {
    await backend.destroyScope();
    await backend.close();
  }

  const late = Array.from(schedLate.subarray(0, Math.min(fires, capacity))).sort((a, b) => a - b);
  const acked = ackLate ? Array.from(ackLate.subarray(0, acks)).sort((a, b) => a - b) : undefined;
  const seconds = (measureEnd - measureStart) / 1000;
  return {
    sink: sinkName,
    feeds,
    startMs: Math.round(startMs),
    fires,
    expectedFires: Math.round((feeds * seconds) / PERIOD_S),
    firesPerSecond: Math.round(fires / seconds),
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / (measureEnd - measureStart)) * 100),
    cpuPerFireUs: Math.round((cpu.user + cpu.system) / Math.max(1, fires)),
    skipped: skipped + behind,
    lateP50: percentile(late, 50),
    lateP99: percentile(late, 99),
    lateMax: late[late.length - 1],
    loopDelayP99: Math.round(loopDelay.percentile(99) / 1e6),
    loopDelayMax: Math.round(loopDelay.max / 1e6),
    load: Math.round(loadAtStart * 10) / 10,
    ackP50: acked ? percentile(acked, 50) : undefined,
    ackP99: acked ? percentile(acked, 99) : undefined,
    rssMb: mb(loaded.rss),
    peakRssMb: mb(peakRss),
    heapMb: mb(loaded.heapUsed),
    heapPerFeedBytes: Math.round((loaded.heapUsed - baseline.heapUsed) / feeds),
    endHeapMb: mb(end.heapUsed),
  };
}

async function main() {
  const [sinkArg, sizeArg] = process.argv.slice(2);
  if (sinkArg === '--child') {
    const result = await run(process.argv[3], Number(process.argv[4]));
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  const sinks = sinkArg ? [sinkArg] : ['sink', 'nats'];
  const nats = await natsUp();
  const results = [];
  for (const sink of sinks) {
    if (sink === 'nats' && !nats) {
      console.log(`nats: skipped, NATS is not reachable at ${NATS_URL}`);
      continue;
    }
    // 100,000 feeds fire 10,000 events/s: more than one JetStream client with one request per
    // publish sustains on this 2-core machine (see README); ask for it by name.
    const sizes = sizeArg ? [Number(sizeArg)] : sink === 'nats' ? [10_000] : SIZES;
    for (const feeds of sizes) {
      console.log(`running ${sink} with ${feeds} feeds (${PERIOD_S} s interval, ${MEASURE_S} s measured)…`);
      const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', sink, String(feeds)], {
        encoding: 'utf8',
        timeout: (MEASURE_S + PERIOD_S + 120) * 1000,
      });
      const line = child.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) {
        console.error(`run ${sink}/${feeds} failed:\n${child.stderr}`);
        process.exitCode = 1;
        continue;
      }
      results.push(JSON.parse(line.slice(7)));
    }
  }
  console.table(
    results.map((r) => ({
      sink: r.sink,
      feeds: r.feeds,
      'start (ms)': r.startMs,
      'fires/s': r.firesPerSecond,
      'CPU % (µs/fire)': `${r.cpuPercent} (${r.cpuPerFireUs})`,
      fires: `${r.fires}/${r.expectedFires}`,
      skipped: r.skipped,
      'late p50 (ms)': r.lateP50,
      'late p99 (ms)': r.lateP99,
      'late max (ms)': r.lateMax,
      'loop delay p99/max (ms)': `${r.loopDelayP99}/${r.loopDelayMax}`,
      'load avg': r.load,
      'ack p50/p99 (ms)': r.ackP50 === undefined ? '' : `${r.ackP50}/${r.ackP99}`,
      'RSS (MB)': `${r.rssMb} (peak ${r.peakRssMb})`,
      'heap (MB)': r.heapMb,
      'heap/feed (B)': r.heapPerFeedBytes,
    })),
  );
  for (const r of results) {
    if (r.skipped > 0) {
      console.error(`FAIL ${r.sink}/${r.feeds}: ${r.skipped} skipped fires`);
      process.exitCode = 1;
    }
    if (r.feeds >= 100_000 && r.lateP99 > 50) console.warn(`goal missed ${r.sink}/${r.feeds}: lateness p99 ${r.lateP99} ms > 50 ms`);
  }
}

await main();
