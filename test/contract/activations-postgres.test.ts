import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { randomId, silentLogger } from '@kindling/core';
import { PostgresActivationStore, redactedUrl } from '@kindling/activations';
import { describeWithService } from '@kindling/test-support';
import { activationRecord, activationStoreContract } from './activation-store-contract.js';

const ADMIN_URL = process.env.KINDLING_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = (sql: string) => withClient(ADMIN_URL, (client) => client.query(sql));

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** A database of this run's own, dropped after: every test starts from an empty table. */
const database = `kindling_activations_${randomId(4)}`;
const url = (() => {
  const parsed = new URL(ADMIN_URL);
  parsed.pathname = `/${database}`;
  return parsed.toString();
})();
const { hostname, port } = new URL(ADMIN_URL);

const describePostgres = await describeWithService('PostgreSQL', hostname, Number(port || 5432));

describePostgres('PostgreSQL activation store', () => {
  beforeAll(() => admin(`CREATE DATABASE ${database}`));
  afterAll(() => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));

  activationStoreContract(async (retention) => {
    await withClient(url, (client) => client.query('DROP TABLE IF EXISTS kindling_activations, kindling_activation_counts CASCADE'));
    return PostgresActivationStore.open({ connectionString: url, retention, log: silentLogger() }, Date.UTC(2026, 11, 4, 12));
  });

  it('partitions by day: a drop per day past the retention, partitions made ahead and for late records', async () => {
    await withClient(url, (client) => client.query('DROP TABLE IF EXISTS kindling_activations, kindling_activation_counts CASCADE'));
    const now = Date.UTC(2026, 11, 4, 12);
    const store = await PostgresActivationStore.open({ connectionString: url, retention: { maxAgeMs: 2 * 86_400_000 }, log: silentLogger() }, now);
    try {
      await store.put(activationRecord('guest', 'late', now - 10 * 86_400_000));
      const partitions = async () =>
        (await withClient(url, (client) => client.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relname LIKE 'kindling_activations_p%' AND relkind = 'r' ORDER BY relname"))).rows.map((r) => r.relname);
      expect(await partitions()).toEqual(['kindling_activations_p20261124t00', 'kindling_activations_p20261203t00', 'kindling_activations_p20261204t00', 'kindling_activations_p20261205t00', 'kindling_activations_p20261206t00']);
      while (!(await store.prune(now + 86_400_000)).done);
      expect(await partitions()).toEqual(['kindling_activations_p20261203t00', 'kindling_activations_p20261204t00', 'kindling_activations_p20261205t00', 'kindling_activations_p20261206t00', 'kindling_activations_p20261207t00']);
    } finally {
      await store.close();
    }
  });

  it('opens in several processes at once on an empty database (the schema is created once, under a lock)', async () => {
    await withClient(url, (client) => client.query('DROP TABLE IF EXISTS kindling_activations, kindling_activation_counts CASCADE'));
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresActivationStore.open({ connectionString: url, retention: { maxAgeMs: 86_400_000 }, log: silentLogger() })));
    await stores[0]!.put(activationRecord('guest', 'shared', Date.now()));
    expect(await Promise.all(stores.map((store) => store.count('guest')))).toEqual([1, 1, 1, 1]);
    await Promise.all(stores.map((store) => store.close()));
  });

  it('never shows the password of its connection string', async () => {
    expect(redactedUrl('postgres://kindling:s3cret-pw@db.internal:5432/acts')).toBe('postgres://kindling:redacted@db.internal:5432/acts');
    const failing = PostgresActivationStore.open({ connectionString: `postgres://nobody:s3cret-pw@127.0.0.1:${port || 5432}/no_such_database_here`, retention: { maxAgeMs: 1000 }, log: silentLogger() });
    await expect(failing).rejects.toMatchObject({ code: 'KND_STORE_UNAVAILABLE' });
    await expect(failing).rejects.toThrow(expect.objectContaining({ message: expect.not.stringContaining('s3cret-pw') }));
  });
});
