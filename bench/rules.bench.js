#!/usr/bin/env node
// Rule engine throughput against NATS JetStream (file storage), next to the raw JetStream publish
// rate of the same client (nats.js) in the same run. Each run, in a NATS scope of its own:
//   1. raw: N events published with nats.js `js.publish` (msgID each), 1024 in flight, to a
//      stream of their own: what JetStream gives this client;
//   2. the same N events published to the trigger through @kindling/nats (the feed side);
//   3. a rule engine started on those events (one trigger, one active rule) and timed until
//      every event has become a durable invocation with its trigger activation recorded.
// Prints each run (with this process's CPU time per event: both sides are bound by the client's
// CPU), then the medians and the ratio engine / raw (issue 2's goal: >= 60 %).
// Events are CloudEvents with a 256-byte payload. Bounded: every phase has a deadline.
// Environment: NATS_URL, RULES_BENCH_EVENTS (default 20000), RULES_BENCH_RUNS (3),
// RULES_BENCH_MAX_IN_FLIGHT (engine, 256). Needs `npm run build`.
import { connect, nanos, RetentionPolicy, StorageType } from 'nats';
import { createCloudEvent, encodeJson, EntityStore, fromParams, randomId, silentLogger, Streams, Subjects } from '../packages/core/dist/index.js';
import { connectNatsBackend } from '../packages/nats/dist/index.js';
import { RuleEngine } from '../packages/rules/dist/index.js';

const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const events = boundedInt('RULES_BENCH_EVENTS', 20_000, 1, 200_000);
const runs = boundedInt('RULES_BENCH_RUNS', 3, 1, 9);
const maxInFlight = boundedInt('RULES_BENCH_MAX_IN_FLIGHT', 256, 1, 10_000);
const PUBLISH_IN_FLIGHT = 1024;
const PAYLOAD_BYTES = 256;
const PHASE_DEADLINE_MS = 120_000;
const NS = 'bench';
const TRIGGER = 'ticks';
const log = silentLogger();

function boundedInt(name, fallback, min, max) {
  const value = process.env[name] === undefined ? fallback : Number(process.env[name]);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`);
  return value;
}

/** N encoded CloudEvents with distinct ids, each with a payload (`data`) of PAYLOAD_BYTES as JSON. */
function makeEvents(count) {
  const runTag = randomId(4);
  return Array.from({ length: count }, (_, n) => {
    const data = { n, pad: '' };
    data.pad = 'x'.repeat(PAYLOAD_BYTES - JSON.stringify(data).length);
    return encodeJson(createCloudEvent({ namespace: NS, trigger: TRIGGER, id: `${runTag}-${n}`, time: Date.now(), data }));
  });
}

/** This process's CPU time per event since `start` (a `process.cpuUsage()`), in µs. */
function cpuPerEvent(start, count) {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / count;
}

/** Runs `task(i)` for every i < count with PUBLISH_IN_FLIGHT outstanding; returns calls per second. */
async function pipelined(count, task) {
  const started = performance.now();
  const deadline = started + PHASE_DEADLINE_MS;
  let next = 0;
  const lane = async () => {
    while (next < count) {
      if (performance.now() > deadline) throw new Error('a publish phase exceeded its deadline');
      await task(next++);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PUBLISH_IN_FLIGHT, count) }, lane));
  return count / ((performance.now() - started) / 1000);
}

async function waitUntil(condition, what) {
  const deadline = performance.now() + PHASE_DEADLINE_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Raw JetStream: nats.js publishing the same bytes to a stream of its own. */
async function rawPublishRate(batch, scope) {
  const nc = await connect({ servers });
  const jsm = await nc.jetstreamManager();
  const stream = `${scope}_RAW`;
  try {
    await jsm.streams.add({ name: stream, subjects: [`${scope}.raw.>`], storage: StorageType.File, retention: RetentionPolicy.Limits, duplicate_window: nanos(120_000) });
    const js = nc.jetstream();
    const cpu = process.cpuUsage();
    const rate = await pipelined(batch.length, (i) => js.publish(`${scope}.raw.events`, batch[i], { msgID: `raw-${i}` }));
    return { rate, cpu: cpuPerEvent(cpu, batch.length) };
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
}

async function oneRun(run) {
  const scope = `bench-rules-${randomId(4)}`;
  const batch = makeEvents(events);
  const { rate: raw, cpu: rawCpu } = await rawPublishRate(batch, scope);

  const publisher = await connectNatsBackend({ servers, scope, log });
  let engineBackend;
  let engine;
  try {
    const entities = await EntityStore.open(publisher.store);
    const common = { namespace: NS, version: '0.0.1', publish: false, annotations: [], updated: Date.now() };
    await entities.put('triggers', { ...common, name: TRIGGER, parameters: fromParams({ source: 'bench' }), limits: {} });
    await entities.put('rules', { ...common, name: 'on-tick', status: 'active', trigger: { path: NS, name: TRIGGER }, action: { path: NS, name: 'noop' } });
    const subject = Subjects.event(NS, TRIGGER);
    const fire = await pipelined(events, (i) => publisher.bus.publish(subject, batch[i], { msgId: `${scope}-${i}` }));

    // The engine has a connection of its own, as it has in a process of its own.
    engineBackend = await connectNatsBackend({ servers, scope, log });
    engine = new RuleEngine({ bus: engineBackend.bus, store: engineBackend.store, log, maxInFlight });
    const cpu = process.cpuUsage();
    const started = performance.now();
    await engine.start();
    await waitUntil(() => engine.metrics().events >= events, `${events} events to be dispatched`);
    const drain = events / ((performance.now() - started) / 1000);
    const engineCpu = cpuPerEvent(cpu, events);

    const { messages } = await publisher.streamInfo(Streams.invocations.name);
    if (messages !== events) throw new Error(`the invocations stream holds ${messages} messages, expected ${events}`);
    console.log(
      `run ${run}: raw ${fmt(raw)} (${rawCpu.toFixed(0)} µs CPU/event)  bus.publish ${fmt(fire)}  ` +
        `engine ${fmt(drain)} (${engineCpu.toFixed(0)} µs CPU/event)  engine/raw ${pct(drain / raw)}`,
    );
    return { raw, fire, drain };
  } finally {
    await engine?.stop();
    await engineBackend?.close();
    await publisher.destroyScope();
    await publisher.close();
  }
}

const fmt = (rate) => `${Math.round(rate).toLocaleString('en-US')} ev/s`;
const pct = (ratio) => `${(ratio * 100).toFixed(0)} %`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

console.log(
  `rule engine vs raw JetStream publish: ${events} events per run (${makeEvents(1)[0].length} B CloudEvents, ${PAYLOAD_BYTES} B payload), ` +
    `${PUBLISH_IN_FLIGHT} publishes in flight, engine maxInFlight ${maxInFlight}, file storage, ${servers}`,
);
const results = [];
for (let run = 1; run <= runs; run++) results.push(await oneRun(run));
const raw = median(results.map((r) => r.raw));
const fire = median(results.map((r) => r.fire));
const drain = median(results.map((r) => r.drain));
console.log(`\nmedian of ${runs} runs:`);
console.log(`  raw JetStream publish (nats.js, msgID)          ${fmt(raw)}`);
console.log(`  trigger events published via @kindling/nats     ${fmt(fire)}`);
console.log(`  rule engine: event -> invocation dispatched     ${fmt(drain)}  = ${pct(drain / raw)} of raw (goal >= 60 %)`);
