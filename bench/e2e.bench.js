#!/usr/bin/env node
// Fire → action result latency through the whole flow on NATS JetStream (file storage): a
// CloudEvent published on a trigger's subject (as a feed's ctx.fire does), the rule engine turns
// it into an invocation, the invoker runs a trivial warm action on the process runtime and
// stores its activation record; the clock stops when the record's completion notice arrives.
// Fires are sequential (one in flight) so that each measures latency, not queueing.
// Environment: NATS_URL, E2E_BENCH_FIRES (default 1000), E2E_BENCH_WARMUP (100).
import {
  ActivationStore,
  createCloudEvent,
  encodeJson,
  EntityStore,
  randomId,
  ruleActivationId,
  silentLogger,
  Subjects,
} from '@kindling/core';
import { connectNatsBackend } from '@kindling/nats';
import { RuleEngine } from '@kindling/rules';
import { Invoker, ProcessRuntime } from '@kindling/runner';

const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const fires = boundedInt('E2E_BENCH_FIRES', 1000, 10, 20_000);
const warmup = boundedInt('E2E_BENCH_WARMUP', 100, 1, 1000);
const DEADLINE_MS = 120_000;
const NS = 'bench';
const log = silentLogger();

function boundedInt(name, fallback, min, max) {
  const value = process.env[name] === undefined ? fallback : Number(process.env[name]);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`);
  return value;
}

const scope = `bench-e2e-${randomId(4)}`;
const backend = await connectNatsBackend({ servers, scope, log });
const runtime = new ProcessRuntime({ log, prewarm: [{ kind: 'nodejs:20', memoryMb: 256, count: 1 }] });
const invoker = new Invoker({ bus: backend.bus, store: backend.store, runtime, log, maxConcurrent: 4 });
const engine = new RuleEngine({ bus: backend.bus, store: backend.store, log });
const started = Date.now();
try {
  const entities = await EntityStore.open(backend.store);
  const common = { namespace: NS, version: '0.0.1', publish: false, annotations: [], updated: Date.now() };
  await entities.put('actions', {
    ...common,
    name: 'echo',
    exec: { kind: 'nodejs:20', code: 'function main(p) { return { n: p.n }; }', binary: false },
    parameters: [],
    limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
  });
  await entities.put('triggers', { ...common, name: 'ticks', parameters: [], limits: {} });
  await entities.put('rules', { ...common, name: 'on-tick', status: 'active', trigger: { path: NS, name: 'ticks' }, action: { path: NS, name: 'echo' } });
  await runtime.start();
  await invoker.start();
  await engine.start();
  const activations = await ActivationStore.open(backend.store);

  const fireOnce = async (n) => {
    const event = createCloudEvent({ namespace: NS, trigger: 'ticks', id: `${scope}-${n}`, data: { n } });
    const activationId = ruleActivationId(NS, 'on-tick', event.id, Date.parse(event.time));
    let listener;
    const done = new Promise((resolve) => {
      listener = backend.bus.listen(Subjects.activationDone(NS, activationId), (data) => resolve(data));
    });
    const t0 = performance.now();
    await backend.bus.publish(Subjects.event(NS, 'ticks'), encodeJson(event), { msgId: event.id });
    const notice = await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error(`fire ${n} timed out`)), 10_000))]);
    const elapsed = performance.now() - t0;
    listener.stop();
    return { elapsed, notice };
  };

  for (let i = 0; i < warmup; i++) await fireOnce(`w${i}`);
  const latencies = [];
  for (let i = 0; i < fires && Date.now() - started < DEADLINE_MS; i++) latencies.push((await fireOnce(i)).elapsed);
  const last = await activations.list(NS, { name: 'echo', limit: 1 });
  if (last[0]?.response.result?.n === undefined) throw new Error('the action result was not recorded');
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(2);
  console.log(`fire → action result, trivial warm action, process runtime, NATS file storage, ${latencies.length} sequential fires:`);
  console.log(`  p50 ${at(0.5)} ms   p90 ${at(0.9)} ms   p99 ${at(0.99)} ms   max ${latencies.at(-1).toFixed(2)} ms   (goal p50 <= 3 ms, p99 <= 15 ms)`);
} finally {
  await engine.stop();
  await invoker.stop();
  await runtime.stop();
  await backend.destroyScope();
  await backend.close();
}
