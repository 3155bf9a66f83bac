#!/usr/bin/env node
// Activation stores at scale: fills each store with ACT_BENCH_MAX records (default 1,000,000) of
// one namespace over 100 action names (one in 20 failed), straight through the store in groups
// of 1,000 (putMany), and at 10k, 100k and 1M records measures
//
//   list newest 30, list by name (30), list by status=failed (30), list with skip 1,000,
//   count (all), count by name, get by id        — p50 / p99 over many calls
//   grouped insert rate while filling            — records/s, ACT_BENCH_WRITERS groups (default 4) in flight,
//                                                  and per CPU-second of this process (what a busy machine
//                                                  cannot blur; for SQLite that is the whole cost but the disk,
//                                                  for PostgreSQL the client's share only)
//
// on SQLite (a file of its own in a temporary directory, WAL) and on PostgreSQL (a database of
// its own, created and dropped here; analyzed after each fill, as autovacuum would). Goals at 1M: list and get p99 ≤ 20 ms, count ≤ 100 ms,
// insert ≥ 20,000 records/s grouped. Needs `npm run build` and PostgreSQL on 127.0.0.1:5432.
//   node bench/activations.bench.js
//   ACT_BENCH_MAX=100000 ACT_BENCH_ENGINES=sqlite node bench/activations.bench.js
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { activationIdFor, activationResponse, randomId, silentLogger } from '../packages/core/dist/index.js';
import { PostgresActivationStore, SqliteActivationStore } from '../packages/activations/dist/index.js';
import { summary } from './support/latency.js';

const MAX = Number(process.env.ACT_BENCH_MAX ?? 1_000_000);
const ENGINES = (process.env.ACT_BENCH_ENGINES ?? 'sqlite,postgres').split(',');
const ADMIN_URL = process.env.ACT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CHECKPOINTS = [10_000, 100_000, 1_000_000].filter((n) => n <= MAX);
const GROUP = 1_000;
/** Groups in flight at once, as several invokers write: PostgreSQL takes them on its pool's connections. */
const WRITERS = Number(process.env.ACT_BENCH_WRITERS ?? 4);
const NAMES = Array.from({ length: 100 }, (_, i) => `action-${String(i).padStart(2, '0')}`);
const NAMESPACE = 'guest';
const RETENTION = { maxAgeMs: 30 * 24 * 60 * 60_000 };
/** Records start 10 ms apart, ending now: 1M records span about 2.8 hours. */
const START = Date.now() - MAX * 10;

function record(i) {
  const start = START + i * 10;
  const status = i % 20 === 19 ? 1 : 0;
  const name = NAMES[i % NAMES.length];
  return {
    namespace: NAMESPACE,
    name,
    subject: NAMESPACE,
    activationId: activationIdFor(start, NAMESPACE, String(i)),
    start,
    end: start + 4,
    duration: 4,
    response: activationResponse(status, status === 0 ? { reading: i, ok: true } : { error: 'sensor offline' }),
    logs: [`${new Date(start).toISOString()} stdout: reading ${i} processed`],
    annotations: [{ key: 'kind', value: 'nodejs:20' }, { key: 'waitTime', value: 3 }],
    version: '0.0.1',
    publish: false,
  };
}

async function time(samples, fn) {
  const started = performance.now();
  await fn();
  samples.push(performance.now() - started);
}

async function measure(label, runs, fn) {
  for (let i = 0; i < Math.min(5, runs); i++) await fn(i); // warm the caches and statements
  const samples = [];
  for (let i = 0; i < runs; i++) await time(samples, () => fn(i));
  console.log(`    ${label.padEnd(28)} ${summary(samples)}`);
}

const pick = (i, size) => (i * 7919) % size;

async function bench(engine, store, afterFill = async () => undefined) {
  console.log(`\n  ${engine}`);
  let filled = 0;
  for (const checkpoint of CHECKPOINTS) {
    const from = filled;
    // Groups are made first: the rate is the store's, not the record generator's.
    const groups = [];
    while (filled < checkpoint) {
      const group = [];
      for (let i = 0; i < GROUP && filled < checkpoint; i++) group.push(record(filled++));
      groups.push(group);
    }
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await Promise.all(Array.from({ length: WRITERS }, async () => {
      for (let group = groups.shift(); group; group = groups.shift()) await store.putMany(group);
    }));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    await afterFill();
    console.log(`  ${checkpoint.toLocaleString('en')} records   (filled ${(checkpoint - from).toLocaleString('en')} at ${Math.round((checkpoint - from) / seconds).toLocaleString('en')} records/s in groups of ${GROUP}, ${WRITERS} at a time; ${Math.round((checkpoint - from) / cpuSeconds).toLocaleString('en')} per CPU-second of this process; load ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
    await measure('list newest 30', 200, () => store.list(NAMESPACE, { limit: 30 }));
    await measure('list by name (30)', 200, (i) => store.list(NAMESPACE, { name: NAMES[pick(i, NAMES.length)], limit: 30 }));
    await measure('list failed (30)', 200, () => store.list(NAMESPACE, { status: 1, limit: 30 }));
    await measure('list skip 1,000 (30)', 200, () => store.list(NAMESPACE, { skip: 1_000, limit: 30 }));
    await measure('get by id', 500, (i) => store.get(NAMESPACE, record(pick(i, checkpoint)).activationId));
    await measure('count all', 20, () => store.count(NAMESPACE));
    await measure('count by name', 50, (i) => store.count(NAMESPACE, { name: NAMES[pick(i, NAMES.length)] }));
  }
}

console.log(`activation stores: up to ${MAX.toLocaleString('en')} records, ${NAMES.length} names; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

if (ENGINES.includes('sqlite')) {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-activations-bench-'));
  const store = new SqliteActivationStore({ file: join(dir, 'activations.sqlite'), retention: RETENTION });
  try {
    await bench('SQLite (better-sqlite3, WAL, file of its own)', store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (ENGINES.includes('postgres')) {
  const database = `kindling_activations_bench_${randomId(4)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  try {
    const store = await PostgresActivationStore.open({ connectionString: url.toString(), retention: RETENTION, log: silentLogger() });
    const sql = new pg.Client({ connectionString: url.toString() });
    await sql.connect();
    try {
      // Statistics as autovacuum's analyze keeps them after a fill; without them the planner guesses.
      await bench('PostgreSQL (daily partitions, pool of 4)', store, () => sql.query('ANALYZE kindling_activations'));
    } finally {
      await sql.end();
      await store.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}
