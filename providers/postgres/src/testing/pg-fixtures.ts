import { randomId } from '@kindling/sdk';
import { type EventBus, type KeyValueStore, eventually, openFeedHarness, type FeedHarness } from '@kindling/provider-testkit';
import pg from 'pg';
import { pgProvider } from '../pg-provider.js';

/**
 * Helpers for the integration suites: they run against the real PostgreSQL on 127.0.0.1:5432
 * (trust auth, database `test`), each in a schema of its own that is dropped afterwards with
 * every slot and publication its feeds created.
 */
export const PG_URL = process.env.KINDLING_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

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
      await eventually(async () => (await sql.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active', [name])).rowCount === 0, `slot ${name} inactive`, 5000);
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

/**
 * The platform around a postgres feed: a kit `FeedHarness` (on the in-memory embedded backend, or
 * on `backend`) whose hosts give up and retry quickly, with feeds on trigger `changes` unless a
 * test names another.
 */
export function openPgHarness(backend?: { bus: EventBus; store: KeyValueStore }): Promise<FeedHarness> {
  return openFeedHarness({
    providers: [pgProvider],
    ...(backend ? { backend } : {}),
    hostOptions: { leaseTtlMs: 1000, maxFailures: 3, backoff: { initialMs: 50, maxMs: 200, jitter: 0 } },
    feedDefaults: { trigger: 'changes' },
  });
}
