#!/usr/bin/env node
// Publish and consume rates of the two bus backends, next to raw JetStream measured with the same
// client in the same run (the yardstick for the adapter's overhead); raw and adapter runs
// alternate so that a noisy machine colours both alike. 256-byte messages with a msgId each,
// 1024 publishes in flight; medians of 3 runs. Bounded: at most COUNT messages and MAX_SECONDS
// per run. NATS work happens in a scope of its own, deleted at the end. Needs `npm run build`.
//
// Then the embedded backend's growth: 10k, 100k and 1M events (BENCH_GROWTH, comma-separated)
// published while one consumer acks them, each size in a fresh process and data directory:
// throughput and resident memory, to show how they change with the number of events.
//
// BENCH_EMBEDDED_BASELINE=<path to another build's packages/embedded/dist/index.js> measures the
// embedded rows on that build too, in the same run (growth only up to 100k on it: the record-log
// backend held every event in memory). How to make one is in packages/embedded/README.md.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AckPolicy, connect, nanos, RetentionPolicy, StorageType } from 'nats';
import { Subjects, silentLogger } from '../packages/core/dist/index.js';
import { connectNatsBackend } from '../packages/nats/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const EMBEDDED = join(here, '../packages/embedded/dist/index.js');
const BASELINE = process.env.BENCH_EMBEDDED_BASELINE;
const GROWTH = (process.env.BENCH_GROWTH ?? '10000,100000,1000000').split(',').map(Number);
const BASELINE_GROWTH_MAX = 100_000;

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const COUNT = Number(process.env.BENCH_COUNT ?? 30_000);
const IN_FLIGHT = 1024;
const CONSUME_IN_FLIGHT = 256;
const RUNS = 3;
const MAX_SECONDS = 20;
const payload = new Uint8Array(256).fill(120);
const log = silentLogger();
const scope = `bench-${process.pid}-${Date.now().toString(36)}`;

/** Runs `publishOne(i)` for i < COUNT with IN_FLIGHT calls outstanding; returns messages/s. */
async function pipelined(publishOne) {
  const started = performance.now();
  const deadline = started + MAX_SECONDS * 1000;
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < COUNT && performance.now() < deadline) {
      await publishOne(next++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return done / ((performance.now() - started) / 1000);
}

/** Resolves with messages/s once `expected` messages were seen, or after MAX_SECONDS. */
function counter(expected) {
  const started = performance.now();
  let seen = 0;
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  const timer = setTimeout(() => finish(), MAX_SECONDS * 1000);
  return {
    tick() {
      if (++seen >= expected) finish();
    },
    async rate() {
      await done;
      clearTimeout(timer);
      return seen / ((performance.now() - started) / 1000);
    },
  };
}

async function busConsumeRate(bus, durable, expected) {
  const count = counter(expected);
  const consumption = await bus.consume({ durable, filter: Subjects.allEvents, maxInFlight: CONSUME_IN_FLIGHT }, async (m) => {
    m.ack();
    count.tick();
  });
  const rate = await count.rate();
  await consumption.stop();
  return rate;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (rate) => `${Math.round(rate).toLocaleString('en-US')} msg/s`.padStart(14);
const line = (what, rate, extra = '') => console.log(`${what.padEnd(52)} ${fmt(rate)}${extra}`);

/** Raw JetStream and the NATS bus, alternating run by run. */
async function benchNats() {
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const rawStream = `${scope}_RAW`;
  await jsm.streams.add({ name: rawStream, subjects: [`${scope}.raw.>`], storage: StorageType.File, retention: RetentionPolicy.Limits, duplicate_window: nanos(120_000) });
  const backend = await connectNatsBackend({ servers: NATS_URL, scope, log });
  const rates = { raw: [], bus: [], rawConsume: [], busConsume: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      rates.raw.push(await pipelined((i) => js.publish(`${scope}.raw.a`, payload, { msgID: `raw-${run}-${i}` })));
      rates.bus.push(await pipelined((i) => backend.bus.publish(Subjects.event('bench', `t${i % 16}`), payload, { msgId: `bus-${run}-${i}` })));
    }
    const rawStored = (await jsm.streams.info(rawStream)).state.messages;
    const busStored = (await backend.streamInfo('KINDLING_EVENTS')).messages;
    for (let run = 0; run < RUNS; run++) {
      await jsm.consumers.add(rawStream, { durable_name: `raw-${run}`, ack_policy: AckPolicy.Explicit, max_ack_pending: 1024 });
      const consumer = await js.consumers.get(rawStream, `raw-${run}`);
      const count = counter(rawStored);
      const messages = await consumer.consume({ max_messages: CONSUME_IN_FLIGHT });
      const loop = (async () => {
        for await (const m of messages) {
          m.ack();
          count.tick();
        }
      })();
      rates.rawConsume.push(await count.rate());
      messages.stop();
      await loop;
      rates.busConsume.push(await busConsumeRate(backend.bus, `reader-${run}`, busStored));
    }
  } finally {
    await jsm.streams.delete(rawStream);
    await nc.close();
    await backend.destroyScope();
    await backend.close();
  }
  return Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)]));
}

async function benchEmbedded(module, dataDir) {
  const { openEmbeddedBackend } = await import(module);
  const backend = await openEmbeddedBackend({ log, ...(dataDir ? { dataDir } : {}) });
  const publish = [];
  const consume = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      publish.push(await pipelined((i) => backend.bus.publish(Subjects.event('bench', `t${i % 16}`), payload, { msgId: `e-${run}-${i}` })));
    }
    const stored = (await backend.streamInfo('KINDLING_EVENTS')).messages;
    for (let run = 0; run < RUNS; run++) consume.push(await busConsumeRate(backend.bus, `reader-${run}`, stored));
  } finally {
    await backend.close();
  }
  return { publish: median(publish), consume: median(consume) };
}

/** One size of the growth figure, in a process of its own (see support/embedded-growth.js). */
async function growthPoint(module, count) {
  const dataDir = await mkdtemp(join(tmpdir(), 'kindling-growth-'));
  try {
    const result = spawnSync(process.execPath, ['--expose-gc', join(here, 'support/embedded-growth.js'), String(count), dataDir, module], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`the growth run of ${count} failed: ${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').pop());
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const builds = [['@kindling/embedded', EMBEDDED], ...(BASELINE ? [['baseline embedded', BASELINE]] : [])];
console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`${COUNT} messages of ${payload.length} B per run, ${IN_FLIGHT} publishes / ${CONSUME_IN_FLIGHT} handlers in flight, median of ${RUNS} runs\n`);
const nats = await benchNats();
line('raw JetStream publish (msgID, file storage)', nats.raw);
line('@kindling/nats bus.publish', nats.bus, `  (${Math.round((nats.bus / nats.raw) * 100)} % of raw)`);
line('raw JetStream consume() + ack', nats.rawConsume);
line('@kindling/nats bus.consume + ack', nats.busConsume, `  (${Math.round((nats.busConsume / nats.rawConsume) * 100)} % of raw)`);

for (const [name, module] of builds) {
  const memory = await benchEmbedded(module);
  line(`${name} bus.publish (memory)`, memory.publish);
  line(`${name} bus.consume + ack (memory)`, memory.consume);
  const dataDir = await mkdtemp(join(tmpdir(), 'kindling-bench-'));
  try {
    const disk = await benchEmbedded(module, dataDir);
    line(`${name} bus.publish (data dir)`, disk.publish);
    line(`${name} bus.consume + ack (data dir)`, disk.consume);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

console.log('\nembedded backend on a data directory: N events published while one consumer acks them, one process per N');
console.log(`${'build'.padEnd(20)} ${'events'.padStart(10)} ${'publish'.padStart(14)} ${'end to end'.padStart(14)} ${'RSS at end'.padStart(11)} ${'peak RSS'.padStart(9)} ${'file'.padStart(8)}`);
for (const count of GROWTH) {
  for (const [name, module] of builds) {
    if (module === BASELINE && count > BASELINE_GROWTH_MAX) continue;
    const point = await growthPoint(module, count);
    const mb = (value) => `${Math.round(value)} MB`;
    console.log(`${name.padEnd(20)} ${count.toLocaleString('en-US').padStart(10)} ${fmt(point.publishRate)} ${fmt(point.endToEndRate)} ${mb(point.rssMb).padStart(11)} ${mb(point.peakRssMb).padStart(9)} ${(point.dbMb === null ? '–' : mb(point.dbMb)).padStart(8)}`);
  }
}
console.log(`\nload average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
