#!/usr/bin/env node
// MQTT messages into durable trigger events: a Mosquitto of our own (random loopback port,
// max_queued_messages 0, max_inflight_messages 0, no persistence), a provider host running one
// mqtt/subscription feed on `bench/+/reading` (1,000 distinct topics), the NATS backend (file
// storage, a scope of its own, deleted at the end). A publisher in a worker thread sends ~200-byte
// JSON payloads; an event counts once its JetStream publish is acknowledged (durable).
//
//   throughput  QoS 0 and QoS 1: COUNT messages as fast as the publisher goes (500 in flight);
//               rate = events / (last durable − first publish).
//   latency     QoS 1 at a steady RATE msg/s for SECONDS (after 2 s of warm-up at that rate):
//               publish time (in the payload) → durable.
//   baselines   where the time goes: the same messages to a bare MQTT.js subscriber (broker and
//               client alone), pipelined JetStream publishes of the same events (bus alone), and
//               the provider host with a bus that answers at once (everything but the bus).
//   embedded    the same QoS 1 throughput and latency into the embedded backend (`kindling up`'s
//               default: in-process bus persisted to a data directory, no fsync).
//
// Bounded: each phase stops after MAX_SECONDS. Needs `npm run build`, NATS and /usr/sbin/mosquitto.
//   node bench/mqtt.bench.js
//   MQTT_BENCH_COUNT=50000 MQTT_BENCH_RATE=2000 MQTT_BENCH_SECONDS=10 node bench/mqtt.bench.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import { createCloudEvent, encodeJson, randomId, silentLogger, Subjects } from '../packages/core/dist/index.js';
import { FeedHost, FeedRepository, ProviderRegistry } from '../packages/host/dist/index.js';
import { connectNatsBackend } from '../packages/nats/dist/index.js';
import { openEmbeddedBackend } from '../packages/embedded/dist/index.js';
import { mqttProvider } from '../providers/mqtt/dist/index.js';
import { startMosquitto } from './support/mosquitto.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const COUNT = Number(process.env.MQTT_BENCH_COUNT ?? 60_000);
const RATE = Number(process.env.MQTT_BENCH_RATE ?? 2000);
const SECONDS = Number(process.env.MQTT_BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const MAX_SECONDS = 45;
const TOPICS = 1000;
const PAYLOAD_BYTES = 200;
const log = silentLogger();
const scope = `bench-mqtt-${process.pid}-${Date.now().toString(36)}`;

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const round = (n) => Math.round(n);

// The publisher runs in a worker thread so that it does not share an event loop with the host.
const PUBLISHER = `
const { parentPort, workerData } = require('node:worker_threads');
const mqtt = require(workerData.mqttPath);
const { url, qos, count, rate, seconds, topics, payloadBytes, maxInFlight } = workerData;
const client = mqtt.connect(url, { clientId: 'bench-pub-' + process.pid + '-' + Math.random().toString(16).slice(2, 8), reconnectPeriod: 0 });
const pad = 'x'.repeat(payloadBytes);
function payload(seq) {
  const head = '{"sensor":"s-' + (seq % topics) + '","seq":' + seq + ',"t":' + Date.now() + ',"temperature":' + (15 + (seq % 200) / 10) + ',"pad":"';
  return head + pad.slice(0, Math.max(0, payloadBytes - head.length - 2)) + '"}';
}
client.on('connect', async () => {
  const started = Date.now();
  let sent = 0;
  let inFlight = 0;
  let wake;
  const publishOne = (seq) => new Promise((resolve) => {
    inFlight++;
    client.publish('bench/' + (seq % topics) + '/reading', payload(seq), { qos }, () => { inFlight--; if (wake) { const w = wake; wake = undefined; w(); } resolve(); });
  });
  if (rate > 0) {
    // Steady rate: a batch every 5 ms.
    const total = rate * seconds;
    const perTick = rate / 200;
    let owed = 0;
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        owed += perTick;
        while (owed >= 1 && sent < total) { owed--; void publishOne(sent++); }
        if (sent >= total) { clearInterval(timer); resolve(); }
      }, 5);
    });
  } else {
    while (sent < count && Date.now() - started < workerData.maxSeconds * 1000) {
      if (inFlight >= maxInFlight) await new Promise((resolve) => (wake = resolve));
      void publishOne(sent++);
    }
  }
  while (inFlight > 0) await new Promise((resolve) => (wake = resolve));
  parentPort.postMessage({ sent, seconds: (Date.now() - started) / 1000 });
  client.end();
});
client.on('error', (error) => { parentPort.postMessage({ error: error.message }); });
`;

function publish(url, options) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(PUBLISHER, {
      eval: true,
      workerData: { url, topics: TOPICS, payloadBytes: PAYLOAD_BYTES, maxInFlight: 500, rate: 0, count: COUNT, seconds: SECONDS, maxSeconds: MAX_SECONDS, mqttPath: mqttPath(), ...options },
    });
    worker.once('message', (result) => (result.error ? reject(new Error(result.error)) : resolve(result)));
    worker.once('error', reject);
  });
}

function mqttPath() {
  return new URL(import.meta.resolve('mqtt')).pathname;
}

/** A bus that takes every event at once: the provider host without the bus. */
const instantBus = {
  publish: async () => ({ stream: 'KINDLING_EVENTS', seq: 0, duplicate: false }),
};

/** The NATS bus, counting durable events and, when asked, the publish → durable latency of each. */
function countingBus(inner, track) {
  const state = { durable: 0, first: 0, last: 0, latencies: [], measureFrom: 0 };
  const bus = Object.create(inner);
  bus.publish = async (subject, data, options) => {
    const ack = await inner.publish(subject, data, options);
    const now = Date.now();
    if (state.durable === 0) state.first = now;
    state.durable++;
    state.last = now;
    if (track.latency) {
      const match = /"t":(\d+)/.exec(Buffer.from(data).toString('utf8'));
      if (match && Number(match[1]) >= state.measureFrom) state.latencies.push(now - Number(match[1]));
    }
    return ack;
  };
  return { bus, state };
}

async function withFeedHost(backend, broker, qos, track, body) {
  const { bus, state } = countingBus(track.instant ? Object.assign(Object.create(backend.bus), instantBus) : backend.bus, track);
  const registry = new ProviderRegistry([mqttProvider]);
  const host = new FeedHost({ store: backend.store, bus, registry, log, publicUrl: 'http://127.0.0.1:3233' });
  await host.start();
  const repo = await FeedRepository.open(backend.store);
  const id = randomId(8);
  const params = await registry.validateParams('mqtt', 'subscription', { url: broker.url, topic: 'bench/+/reading', qos, clientId: `bench-${id}`, clean: true }, { log, signal: new AbortController().signal });
  await repo.feeds.put(id, { id, namespace: 'bench', trigger: `readings-${id}`, provider: 'mqtt', kind: 'subscription', params, desired: 'active', generation: 1, createdAt: Date.now(), updatedAt: Date.now() });
  for (let i = 0; (await repo.statuses.get(id))?.value.status !== 'active'; i++) {
    if (i > 500) throw new Error('the bench feed did not start');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  try {
    return await body(state);
  } finally {
    await host.stop();
    // The next phase's host would otherwise run this feed too.
    await repo.feeds.delete(id);
  }
}

async function untilCount(state, expected) {
  const deadline = Date.now() + MAX_SECONDS * 1000;
  let previous = -1;
  let stalledSince = Date.now();
  while (state.durable < expected && Date.now() < deadline) {
    if (state.durable !== previous) {
      previous = state.durable;
      stalledSince = Date.now();
    } else if (Date.now() - stalledSince > 3000) break; // QoS 0 may lose messages: stop when nothing moves
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function throughput(backend, broker, qos, instant = false) {
  return withFeedHost(backend, broker, qos, { latency: false, instant }, async (state) => {
    const started = Date.now();
    const published = await publish(broker.url, { qos });
    await untilCount(state, published.sent);
    const seconds = (state.last - started) / 1000;
    return { qos, published: published.sent, events: state.durable, publishRate: round(published.sent / published.seconds), eventRate: round(state.durable / seconds) };
  });
}

async function latency(backend, broker) {
  return withFeedHost(backend, broker, 1, { latency: true }, async (state) => {
    // The first WARMUP_SECONDS are sent at the same rate but not measured (JIT, fresh connections).
    state.measureFrom = Date.now() + WARMUP_SECONDS * 1000;
    const published = await publish(broker.url, { qos: 1, rate: RATE, seconds: SECONDS + WARMUP_SECONDS });
    await untilCount(state, published.sent);
    const sorted = state.latencies.slice().sort((a, b) => a - b);
    return { rate: RATE, seconds: SECONDS, measured: sorted.length, published: published.sent, events: state.durable, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
  });
}

/** Broker and MQTT.js alone: a subscriber that acknowledges at once. */
async function bareSubscriber(broker, qos) {
  const client = await mqtt.connectAsync(broker.url, { clientId: `bench-bare-${randomId(4)}`, clean: true });
  let received = 0;
  let last = 0;
  client.on('message', () => {
    received++;
    last = Date.now();
  });
  await client.subscribeAsync('bench/+/reading', { qos });
  const started = Date.now();
  const published = await publish(broker.url, { qos });
  await untilCount({ get durable() { return received; } }, published.sent);
  await client.endAsync();
  return { qos, received, rate: round(received / ((last - started) / 1000)) };
}

/** The bus alone: pipelined durable publishes of events like the feed's, 1,000 in flight. */
async function busAlone(backend) {
  const body = { topic: 'bench/1/reading', payload: { sensor: 's-1', seq: 1, t: Date.now(), temperature: 21.5, pad: 'x'.repeat(120) } };
  const started = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < COUNT && Date.now() - started < MAX_SECONDS * 1000) {
      const event = createCloudEvent({ namespace: 'bench', trigger: 'bus-alone', data: body, id: randomId(8), subject: body.topic });
      next++;
      await backend.bus.publish(Subjects.event('bench', 'bus-alone'), encodeJson(event), { msgId: `f:${event.id}` });
    }
  };
  await Promise.all(Array.from({ length: 1000 }, lane));
  return { events: next, rate: round(next / ((Date.now() - started) / 1000)) };
}

async function main() {
  const broker = await startMosquitto();
  let backend;
  try {
    backend = await connectNatsBackend({ servers: NATS_URL, scope, log });
    console.log(`mosquitto ${broker.url}; NATS ${NATS_URL} scope ${scope}; ${COUNT} messages of ~${PAYLOAD_BYTES} B on ${TOPICS} topics`);
    for (const qos of [0, 1]) console.log('baseline: bare MQTT.js subscriber', JSON.stringify(await bareSubscriber(broker, qos)));
    console.log('baseline: JetStream publishes alone', JSON.stringify(await busAlone(backend)));
    console.log('baseline: provider host with a bus that stores nothing, QoS 1', JSON.stringify(await throughput(backend, broker, 1, true)));
    for (const qos of [0, 1]) console.log('throughput: mosquitto → durable events', JSON.stringify(await throughput(backend, broker, qos)));
    console.log('latency: mosquitto → durable event, QoS 1', JSON.stringify(await latency(backend, broker)));
    const dataDir = mkdtempSync(join(tmpdir(), 'kindling-bench-mqtt-embedded-'));
    const embedded = await openEmbeddedBackend({ dataDir, log });
    try {
      console.log('embedded backend (kindling up; data dir, no fsync): mosquitto → durable events', JSON.stringify(await throughput(embedded, broker, 1)));
      console.log('embedded backend: latency, QoS 1', JSON.stringify(await latency(embedded, broker)));
    } finally {
      await embedded.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  } finally {
    if (backend) {
      await backend.destroyScope().catch(() => undefined);
      await backend.close();
    }
    await broker.stop();
  }
}

const watchdog = setTimeout(() => {
  console.error('mqtt bench: out of time');
  process.exit(1);
}, 8 * 60_000);
watchdog.unref();
await main();
