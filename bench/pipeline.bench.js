#!/usr/bin/env node
// The whole pipeline as a user runs it: a Mosquitto of our own (random loopback port, unbounded
// queues, no persistence), the platform started by its composition root (`startPlatform`, all
// four roles in this process, process runtime), set up through the REST API with the `openwhisk`
// client: an `mqtt/subscription` feed on `bench/+/reading` → trigger → rule(s) → trivial Node.js
// action(s) → activation records. A publisher in a child process sends ~200-byte JSON readings,
// QoS 1, 200 in flight, each stamped with its publish time. An event counts once the invoker has
// stored its activation record (the notice it sends after the store acknowledged the write).
//
//   baseline    a bare in-process MQTT.js subscriber running the same function on each message
//   one         one rule, one action, one activation per event
//   three       one trigger, three rules to three actions (every event runs each of them)
//   batched     one rule batching 500 events (window 200 ms), one activation per batch
//   latency     one action at a steady RATE events/s: publish → activation record, p50/p99
//
// Each case on NATS JetStream (file storage, a scope of its own, deleted at the end) and on the
// embedded backend (SQLite/data directory, as `kindling up`). Rates are events / (last record −
// first publish). Bounded: each phase stops after MAX_SECONDS and says how far it got.
//
//   node bench/pipeline.bench.js
//   PIPELINE_BENCH_COUNT=20000 PIPELINE_BENCH_BACKENDS=nats PIPELINE_BENCH_CASES=one,batched node bench/pipeline.bench.js
//   node bench/pipeline.bench.js --soak 600     memory soak (issue #12): embedded, 1,000 events/s,
//                                               resident memory every 10 s and its slope over the last half
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import openwhisk from 'openwhisk';
import { decodeJson, randomId, silentLogger } from '@kindling/core';
import { startPlatform } from '@kindling/platform';
import { connectNatsBackend } from '@kindling/nats';
import { startMosquitto } from './support/mosquitto.js';
import { publishFromChild } from './support/mqtt-publisher.js';
import { percentile } from './support/latency.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const COUNT = boundedInt('PIPELINE_BENCH_COUNT', 10_000, 100, 1_000_000);
const RATE = boundedInt('PIPELINE_BENCH_RATE', 1000, 10, 100_000);
const SECONDS = boundedInt('PIPELINE_BENCH_SECONDS', 10, 1, 3600);
const MAX_SECONDS = boundedInt('PIPELINE_BENCH_MAX_SECONDS', 60, 5, 3600);
const BACKENDS = (process.env.PIPELINE_BENCH_BACKENDS ?? 'nats,embedded').split(',');
const CASES = (process.env.PIPELINE_BENCH_CASES ?? 'baseline,one,three,batched,latency').split(',');
const WARMUP_SECONDS = 2;
const WARMUP_MESSAGES = 300;
const IN_FLIGHT = 200;
const BATCH = { size: 500, windowMs: 200 };
const TOPIC_FILTER = 'bench/+/reading';
const log = silentLogger();

/** The function every case runs: the action's body, and the bare subscriber's handler. */
const handleReading = (payload) => ({ t: payload.t });
const ONE_ACTION = 'function main(p) { return { t: p.payload.t }; }';
const BATCH_ACTION = 'function main(p) { return { ts: p.events.map((e) => e.data.payload.t) }; }';

function boundedInt(name, fallback, min, max) {
  const value = process.env[name] === undefined ? fallback : Number(process.env[name]);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`);
  return value;
}

const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counts the events whose activation records are stored, from the invoker's notices: one per
 * record of a per-event action, `eventIds.length` per batch record; and, from `measureFrom` on,
 * the publish → record latency of each event.
 */
class RecordCounter {
  events = 0;
  records = 0;
  last = 0;
  measureFrom = Infinity;
  latencies = [];
  perAction = new Map();

  constructor(bus) {
    this.listener = bus.listen('kindling.done.>', (data) => this.seen(decodeJson(data)));
  }

  seen(record) {
    const now = Date.now();
    const result = record.response?.result ?? {};
    const stamps = Array.isArray(result.ts) ? result.ts : [result.t];
    this.records++;
    this.events += stamps.length;
    this.last = now;
    this.perAction.set(record.name, (this.perAction.get(record.name) ?? 0) + stamps.length);
    for (const t of stamps) if (typeof t === 'number' && t >= this.measureFrom) this.latencies.push(now - t);
  }

  reset() {
    this.events = 0;
    this.records = 0;
    this.latencies = [];
    this.perAction = new Map();
    this.measureFrom = Infinity;
  }

  /** Waits for `expected` events, or until nothing moved for `stallMs`, or MAX_SECONDS. */
  async until(expected, stallMs = 10_000) {
    const deadline = Date.now() + MAX_SECONDS * 1000;
    let previous = -1;
    let movedAt = Date.now();
    while (this.events < expected && Date.now() < deadline) {
      if (this.events !== previous) {
        previous = this.events;
        movedAt = Date.now();
      } else if (Date.now() - movedAt > stallMs) break;
      await sleep(20);
    }
    return this.events >= expected;
  }

  stop() {
    this.listener.stop();
  }
}

/** A platform on `backend` with the case's entities, its MQTT feed active and warm. */
async function withPlatform(backend, broker, setup, body) {
  const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-pipeline-'));
  const scope = `bench-pipeline-${randomId(4)}`;
  const platform = await startPlatform({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    runtime: 'process',
    providers: [],
    mqtt: false,
    log,
    ...(backend === 'nats' ? { natsUrl: NATS_URL, natsScope: scope } : {}),
  });
  const counter = new RecordCounter(platform.bus);
  try {
    const ow = openwhisk({ apihost: platform.apiUrl, api_key: platform.guestAuth });
    await ow.triggers.create({ name: 'readings' });
    const rules = await setup(ow, platform);
    await ow.feeds.create({
      name: '/whisk.system/mqtt/subscription',
      trigger: 'readings',
      params: { url: broker.url, topic: TOPIC_FILTER, qos: 1, clientId: `bench-feed-${randomId(4)}`, clean: true },
    });
    for (let i = 0; !JSON.stringify((await ow.feeds.get({ name: '/whisk.system/mqtt/subscription', trigger: 'readings' })).response.result).includes('"active"'); i++) {
      if (i > 200) throw new Error('the bench feed did not become active');
      await sleep(50);
    }
    // Warm: processes started, code paths compiled, connections open.
    await sleep(300);
    await publishFromChild({ url: broker.url, count: WARMUP_MESSAGES, maxInFlight: IN_FLIGHT, maxSeconds: MAX_SECONDS });
    await counter.until(WARMUP_MESSAGES * rules, 3000);
    await sleep(500);
    counter.reset();
    return await body(counter, rules);
  } finally {
    counter.stop();
    await platform.stop();
    if (backend === 'nats') {
      const cleanup = await connectNatsBackend({ servers: NATS_URL, scope, log });
      await cleanup.destroyScope().catch(() => undefined);
      await cleanup.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function createAction(ow, name, code) {
  await ow.actions.create({ name, action: code, kind: 'nodejs:20' });
}

async function createRule(ow, platform, name, action, batch) {
  const response = await fetch(`${platform.apiUrl}/api/v1/namespaces/_/rules/${name}`, {
    method: 'PUT',
    headers: { authorization: `Basic ${Buffer.from(platform.guestAuth).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ trigger: 'readings', action, ...(batch ? { batch } : {}) }),
  });
  if (!response.ok) throw new Error(`rule ${name}: ${response.status} ${await response.text()}`);
}

const setups = {
  async one(ow, platform) {
    await createAction(ow, 'reading', ONE_ACTION);
    await createRule(ow, platform, 'on-reading', 'reading');
    return 1;
  },
  async three(ow, platform) {
    for (const n of [1, 2, 3]) {
      await createAction(ow, `reading-${n}`, ONE_ACTION);
      await createRule(ow, platform, `on-reading-${n}`, `reading-${n}`);
    }
    return 3;
  },
  async batched(ow, platform) {
    await createAction(ow, 'readings-batch', BATCH_ACTION);
    await createRule(ow, platform, 'on-readings', 'readings-batch', BATCH);
    return 1;
  },
};

async function throughput(backend, broker, kind) {
  return withPlatform(backend, broker, setups[kind], async (counter, rules) => {
    const started = Date.now();
    const published = await publishFromChild({ url: broker.url, count: COUNT, maxInFlight: IN_FLIGHT, maxSeconds: MAX_SECONDS });
    const complete = await counter.until(published.sent * rules);
    const seconds = (counter.last - started) / 1000;
    const events = counter.events / rules;
    return {
      published: published.sent,
      events: Math.round(events),
      complete,
      eventsPerSecond: Math.round(events / seconds),
      ...(rules > 1 ? { actionRunsPerSecond: Math.round(counter.events / seconds), perAction: Object.fromEntries(counter.perAction) } : {}),
      ...(kind === 'batched' ? { batches: counter.records } : {}),
    };
  });
}

async function latency(backend, broker) {
  return withPlatform(backend, broker, setups.one, async (counter) => {
    counter.measureFrom = Date.now() + WARMUP_SECONDS * 1000;
    const published = await publishFromChild({ url: broker.url, rate: RATE, seconds: SECONDS + WARMUP_SECONDS, maxInFlight: IN_FLIGHT, maxSeconds: MAX_SECONDS });
    const complete = await counter.until(published.sent);
    const sorted = counter.latencies.sort((a, b) => a - b);
    return { rate: RATE, seconds: SECONDS, measured: sorted.length, complete, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) };
  });
}

/** Broker and MQTT.js alone, the same function run in-process on each message. */
async function bareSubscriber(broker) {
  const client = await mqtt.connectAsync(broker.url, { clientId: `bench-bare-${randomId(4)}`, clean: true });
  let received = 0;
  let last = 0;
  client.on('message', (_topic, payload) => {
    handleReading(JSON.parse(payload.toString('utf8')));
    received++;
    last = Date.now();
  });
  await client.subscribeAsync(TOPIC_FILTER, { qos: 1 });
  const started = Date.now();
  const published = await publishFromChild({ url: broker.url, count: COUNT, maxInFlight: IN_FLIGHT, maxSeconds: MAX_SECONDS });
  const deadline = Date.now() + 10_000;
  while (received < published.sent && Date.now() < deadline) await sleep(20);
  await client.endAsync();
  return { published: published.sent, events: received, eventsPerSecond: Math.round(received / ((last - started) / 1000)) };
}

/** Least-squares slope of `points` ([seconds, MB]) in MB per minute. */
function slopePerMinute(points) {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : (sxy / sxx) * 60;
}

async function soak(broker, seconds) {
  console.log(`soak: embedded backend, one action, ${RATE} events/s for ${seconds} s; resident memory of this process (the whole platform) every 10 s`);
  return withPlatform('embedded', broker, setups.one, async (counter) => {
    const started = Date.now();
    const samples = [];
    const sample = () => {
      const at = (Date.now() - started) / 1000;
      const rssMb = process.memoryUsage().rss / 2 ** 20;
      samples.push([at, rssMb]);
      console.log(`  t=${at.toFixed(0).padStart(5)} s  rss ${rssMb.toFixed(1)} MB  records ${counter.events}  load ${load()}`);
    };
    sample();
    const timer = setInterval(sample, 10_000);
    try {
      const published = await publishFromChild({ url: broker.url, rate: RATE, seconds, maxInFlight: IN_FLIGHT, maxSeconds: seconds + 60 });
      await counter.until(published.sent);
      sample();
      const lastHalf = samples.filter(([at]) => at >= seconds / 2);
      return { published: published.sent, events: counter.events, rssStartMb: +samples[0][1].toFixed(1), rssEndMb: +samples.at(-1)[1].toFixed(1), slopeLastHalfMbPerMin: +slopePerMinute(lastHalf).toFixed(2) };
    } finally {
      clearInterval(timer);
    }
  });
}

async function main() {
  const soakAt = process.argv.indexOf('--soak');
  const broker = await startMosquitto();
  try {
    console.log(`pipeline bench: mosquitto ${broker.url}; ${COUNT} messages of ~200 B, QoS 1, ${IN_FLIGHT} in flight; load average ${load()}`);
    if (soakAt >= 0) {
      const seconds = Number(process.argv[soakAt + 1] ?? 600);
      if (!Number.isInteger(seconds) || seconds < 20) throw new Error('--soak takes a whole number of seconds, at least 20');
      console.log('soak', JSON.stringify(await soak(broker, seconds)));
      return;
    }
    let baseline;
    if (CASES.includes('baseline')) {
      baseline = await bareSubscriber(broker);
      console.log('baseline: bare MQTT.js subscriber, same function in-process', JSON.stringify(baseline), `load ${load()}`);
    }
    for (const backend of BACKENDS) {
      for (const kind of ['one', 'three', 'batched']) {
        if (!CASES.includes(kind)) continue;
        const result = await throughput(backend, broker, kind);
        const ratio = baseline ? { ofBaseline: +(result.eventsPerSecond / baseline.eventsPerSecond).toFixed(2) } : {};
        console.log(`${backend}: ${kind}`, JSON.stringify({ ...result, ...ratio }), `load ${load()}`);
      }
      if (CASES.includes('latency')) console.log(`${backend}: latency at ${RATE}/s, publish → record (ms)`, JSON.stringify(await latency(backend, broker)), `load ${load()}`);
    }
  } finally {
    await broker.stop();
  }
}

const soakSeconds = process.argv.includes('--soak') ? Number(process.argv[process.argv.indexOf('--soak') + 1] ?? 600) : 0;
const watchdog = setTimeout(() => {
  console.error('pipeline bench: out of time');
  process.exit(1);
}, (15 * 60 + soakSeconds * 1.5) * 1000);
watchdog.unref();
await main();
// Stray handles (an action process's pipes, a socket closing) must not keep the run alive.
process.exit(0);
