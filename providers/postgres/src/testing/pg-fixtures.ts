import {
  createLogger,
  decodeJson,
  FeedHost,
  FeedRepository,
  ProviderRegistry,
  randomId,
  silentLogger,
  Subjects,
  type CloudEvent,
  type Consumption,
  type EventBus,
  type FeedRecord,
  type FeedStatusRecord,
  type KeyValueStore,
} from '@kindling/core';
import pg from 'pg';
import { Writable } from 'node:stream';
import { pgProvider } from '../pg-provider.js';
import type { PgChange } from '../change-assembler.js';

/**
 * Helpers for the integration suites: they run against the real PostgreSQL on 127.0.0.1:5432
 * (trust auth, database `test`), each in a schema of its own that is dropped afterwards with
 * every slot and publication its feeds created.
 */
export const PG_URL = process.env.KINDLING_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function until<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A schema of its own in the test database, and an admin connection to it. */
export async function openTestSchema(): Promise<{ schema: string; sql: pg.Client; drop(): Promise<void> }> {
  const schema = `kindling_pg_${randomId(4)}`;
  const sql = new pg.Client({ connectionString: PG_URL });
  await sql.connect();
  await sql.query(`CREATE SCHEMA ${schema}`);
  return {
    schema,
    sql,
    async drop() {
      await sql.query(`DROP SCHEMA ${schema} CASCADE`);
      await sql.end();
    },
  };
}

/** Drops slots and publications that feeds of a test left behind (a failed test must not leave WAL piling up). */
export async function dropReplicationLeftovers(names: string[]): Promise<void> {
  if (names.length === 0) return;
  const sql = new pg.Client({ connectionString: PG_URL });
  await sql.connect();
  try {
    for (const name of names) {
      await sql.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL', [name]);
      await until(async () => (await sql.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [name])).rowCount === 0, `slot ${name} inactive`, 5000);
      await sql.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [name]);
      await sql.query(`DROP PUBLICATION IF EXISTS ${pg.escapeIdentifier(name)}`);
    }
  } finally {
    await sql.end();
  }
}

export async function replicationObjects(name: string): Promise<{ slot: boolean; publication: boolean }> {
  const sql = new pg.Client({ connectionString: PG_URL });
  await sql.connect();
  try {
    const slot = await sql.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [name]);
    const publication = await sql.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name]);
    return { slot: slot.rowCount === 1, publication: publication.rowCount === 1 };
  } finally {
    await sql.end();
  }
}

export const registry = new ProviderRegistry([pgProvider]);

/** A feed record as the API stores it after validating its parameters (which reaches the server). */
export async function feedRecord(params: Record<string, unknown>, trigger = 'changes'): Promise<FeedRecord> {
  const validated = await registry.validateParams('postgres', 'changes', params, { log: silentLogger(), signal: new AbortController().signal });
  return {
    id: randomId(8),
    namespace: 'guest',
    trigger,
    provider: 'postgres',
    kind: 'changes',
    params: validated,
    desired: 'active',
    generation: 1,
    createdAt: Date.now(),
    updatedAt: Date.now(),
  };
}

/** A provider host whose log lines the test can read. */
export async function startHost(backend: { bus: EventBus; store: KeyValueStore }, hostId: string, logLines: string[] = []): Promise<FeedHost> {
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(String(chunk));
      callback();
    },
  });
  const host = new FeedHost({
    store: backend.store,
    bus: backend.bus,
    registry,
    log: createLogger({ level: 'debug', destination }),
    publicUrl: 'http://127.0.0.1:3233',
    hostId,
    leaseTtlMs: 1000,
    maxFailures: 3,
    backoff: { initialMs: 50, maxMs: 200, jitter: 0 },
  });
  await host.start();
  return host;
}

export async function statusOf(repo: FeedRepository, feedId: string): Promise<FeedStatusRecord | undefined> {
  return (await repo.statuses.get(feedId))?.value;
}

/** Every event of `trigger` on the bus, from the start of the stream. */
export async function collectEvents(bus: EventBus, trigger: string): Promise<{ events: CloudEvent<PgChange>[]; consumption: Consumption }> {
  const events: CloudEvent<PgChange>[] = [];
  const consumption = await bus.consume({ durable: `pg-test-${randomId(4)}`, filter: Subjects.event('guest', trigger) }, async (message) => {
    events.push(decodeJson<CloudEvent<PgChange>>(message.data));
    message.ack();
  });
  return { events, consumption };
}
