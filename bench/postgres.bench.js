#!/usr/bin/env node
// PostgreSQL commits into durable trigger events: a provider host running one postgres/changes
// feed (logical replication, pgoutput) on a table of its own in the local PostgreSQL (database
// `test`, a schema of its own), the NATS backend (a scope of its own, deleted at the end). A
// change counts once its JetStream publish is acknowledged (durable): latency = that moment −
// the transaction's commit time as PostgreSQL reports it (same machine clock, ms precision).
//
//   latency     single-row INSERT transactions at a steady RATE/s for SECONDS (goals at 1,000/s:
//               p50 ≤ 20 ms, p99 ≤ 100 ms).
//   sustained   the same at rising rates, each for STEP_SECONDS: the highest rate written that the
//               feed kept up with (every change durable within 1 s of the writer stopping, p99
//               under 1 s). The writers (WRITERS connections, synchronous commits) share the
//               machine: when they cannot reach a rate, the figure is theirs, and says so.
//   drain       BULK rows written first in 100-row transactions while the feed is stopped, then
//               drained: the feed's own ceiling, without the writer competing for the CPU.
//
// Bounded: every phase stops after MAX_SECONDS. Drops its slot, publication and schema at the end.
// Needs `npm run build`, NATS with JetStream and PostgreSQL with wal_level=logical.
//   node bench/postgres.bench.js
//   PG_BENCH_RATE=1000 PG_BENCH_SECONDS=10 PG_BENCH_BULK=50000 node bench/postgres.bench.js
import pg from 'pg';
import { randomId, silentLogger } from '../packages/core/dist/index.js';
import { FeedHost, FeedRepository, ProviderRegistry } from '../packages/host/dist/index.js';
import { connectNatsBackend } from '../packages/nats/dist/index.js';
import { pgProvider, replicationNameFor } from '../providers/postgres/dist/index.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const PG_URL = process.env.PG_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RATE = Number(process.env.PG_BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.PG_BENCH_SECONDS ?? 10);
const STEP_SECONDS = Number(process.env.PG_BENCH_STEP_SECONDS ?? 4);
const STEPS = (process.env.PG_BENCH_STEPS ?? '1500,2000,3000,4000,6000').split(',').map(Number);
const BULK = Number(process.env.PG_BENCH_BULK ?? 50_000);
const WRITERS = Number(process.env.PG_BENCH_WRITERS ?? 16);
const MAX_SECONDS = 40;
const log = silentLogger();
const scope = `bench-pg-${process.pid}-${Date.now().toString(36)}`;
const schema = `kindling_bench_${process.pid}`;

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wraps the bus so that the moment each event is durable is known (its publish is acknowledged). */
function timedBus(bus, onDurable) {
  return {
    publish: async (subject, data, options) => {
      const ack = await bus.publish(subject, data, options);
      onDurable(data, Date.now());
      return ack;
    },
    consume: (...args) => bus.consume(...args),
    notify: (...args) => bus.notify(...args),
    listen: (...args) => bus.listen(...args),
    close: () => bus.close(),
  };
}

/** Single-row INSERT transactions at `rate`/s for `seconds`, spread over a few connections. */
async function writeSteadily(writers, rate, seconds) {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let issued = 0;
  const deadline = started + MAX_SECONDS * 1000;
  await Promise.all(
    writers.map(async (client) => {
      while (issued < total && performance.now() < deadline) {
        const due = ((performance.now() - started) / 1000) * rate;
        if (issued >= due) {
          await sleep(1);
          continue;
        }
        issued++;
        await client.query(`INSERT INTO ${schema}.orders (note) VALUES ('steady')`);
      }
    }),
  );
  return { written: issued, seconds: (performance.now() - started) / 1000 };
}

async function main() {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const walLevel = (await admin.query('SHOW wal_level')).rows[0].wal_level;
  if (walLevel !== 'logical') throw new Error(`PostgreSQL wal_level is ${walLevel}; the bench needs logical (see .ci/run)`);
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.orders (id bigserial PRIMARY KEY, note text)`);
  const writers = await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      return client;
    }),
  );

  const backend = await connectNatsBackend({ servers: NATS_URL, scope, log });
  let window = [];
  const bus = timedBus(backend.bus, (data, at) => {
    const event = JSON.parse(Buffer.from(data).toString('utf8'));
    window.push(at - Date.parse(event.data.commitTime));
  });
  const registry = new ProviderRegistry([pgProvider]);
  const repo = await FeedRepository.open(backend.store);
  const params = await registry.validateParams('postgres', 'changes', { connection: PG_URL, tables: `${schema}.orders`, operations: 'insert' }, { log, signal: new AbortController().signal });
  const feed = { id: randomId(8), namespace: 'bench', trigger: 'orders', provider: 'postgres', kind: 'changes', params, desired: 'active', generation: 1, createdAt: Date.now(), updatedAt: Date.now() };
  const slot = replicationNameFor(feed.id, params);
  let host;
  const startHost = async () => {
    host = new FeedHost({ store: backend.store, bus, registry, log, publicUrl: 'http://127.0.0.1:3233', hostId: `bench-${randomId(3)}`, leaseTtlMs: 2000 });
    await host.start();
    for (let i = 0; i < 200; i++) {
      if ((await repo.statuses.get(feed.id))?.value.status === 'active') return;
      await sleep(25);
    }
    throw new Error('the feed did not start');
  };
  const awaitEvents = async (count, limitMs) => {
    const deadline = Date.now() + limitMs;
    while (window.length < count && Date.now() < deadline) await sleep(5);
    return window.length >= count;
  };
  const summary = (latencies) => {
    const sorted = [...latencies].sort((a, b) => a - b);
    return { events: sorted.length, p50_ms: percentile(sorted, 50), p90_ms: percentile(sorted, 90), p99_ms: percentile(sorted, 99), max_ms: sorted.at(-1) };
  };

  try {
    await repo.feeds.put(feed.id, feed);
    await startHost();
    console.log(`PostgreSQL ${walLevel} WAL; NATS ${NATS_URL} scope ${scope}; one feed on ${schema}.orders; ${WRITERS} writer connections`);

    // Warm-up: the first transactions pay for connection and relation set-up.
    window = [];
    await writeSteadily(writers, 500, 1);
    await awaitEvents(500, 5000);

    window = [];
    const steady = await writeSteadily(writers, RATE, SECONDS);
    const complete = await awaitEvents(steady.written, 10_000);
    console.log(`latency: commit → durable event at ${RATE}/s for ${SECONDS} s`, JSON.stringify({ ...summary(window), written: steady.written, writeRate: Math.round(steady.written / steady.seconds), complete }));

    let highest = 0;
    let writerLimited = false;
    for (const rate of STEPS) {
      window = [];
      const step = await writeSteadily(writers, rate, STEP_SECONDS);
      const writeRate = Math.round(step.written / step.seconds);
      const keptUp = await awaitEvents(step.written, 1000);
      const stats = summary(window);
      const sustained = keptUp && stats.p99_ms < 1000;
      console.log(`sustained: ${rate}/s asked`, JSON.stringify({ writeRate, ...stats, keptUp: sustained }));
      await awaitEvents(step.written, 20_000);
      if (!sustained) break;
      if (writeRate <= highest * 1.05) {
        writerLimited = true;
        break;
      }
      highest = Math.max(highest, writeRate);
      if (writeRate < rate * 0.9) {
        writerLimited = true;
        break;
      }
    }
    console.log(`sustained: highest rate kept up with: ${highest} single-row transactions/s${writerLimited ? ' (the writers could not go faster on this machine: the feed was not the limit)' : ''}`);

    await host.stop();
    window = [];
    for (let done = 0; done < BULK; done += 100) {
      await writers[0].query(`INSERT INTO ${schema}.orders (note) SELECT 'bulk' FROM generate_series(1, ${Math.min(100, BULK - done)})`);
    }
    const drainStart = Date.now();
    await startHost();
    const drained = await awaitEvents(BULK, MAX_SECONDS * 1000);
    const drainSeconds = (Date.now() - drainStart) / 1000;
    console.log('drain: backlog of 100-row transactions', JSON.stringify({ events: window.length, seconds: Number(drainSeconds.toFixed(2)), eventsPerSecond: Math.round(window.length / drainSeconds), complete: drained }));
  } finally {
    await host?.stop().catch(() => undefined);
    await pgProvider.kinds.changes.teardown?.({ ...feed }, { log, signal: new AbortController().signal, cursor: { get: async () => undefined, set: async () => undefined }, hookUrl: '' }).catch((error) => console.error('teardown failed:', error.message));
    await backend.destroyScope().catch(() => undefined);
    await backend.close();
    for (const client of writers) await client.end();
    const left = await admin.query('SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    if (left.rows[0].n !== 0) console.error(`replication slot ${slot} was left behind`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
