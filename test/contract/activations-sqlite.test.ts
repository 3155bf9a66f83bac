import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { SqliteActivationStore } from '@kindling/activations';
import { silentLogger } from '@kindling/core';
import { openEmbeddedBackend } from '@kindling/embedded';
import { activationRecord, activationStoreContract } from './activation-store-contract.js';

const dir = await mkdtemp(join(tmpdir(), 'kindling-activations-'));
let files = 0;

describe('SQLite activation store', () => {
  activationStoreContract(async (retention) => new SqliteActivationStore({ file: join(dir, `store-${++files}.sqlite`), retention }));

  it('lives in a shared database (the embedded backend’s) without closing it, and keeps records across a reopen', async () => {
    const database = new Sqlite(join(dir, 'shared.sqlite'));
    const record = activationRecord('guest', 'hello', Date.now());
    const first = new SqliteActivationStore({ database, retention: { maxAgeMs: 60_000 } });
    await first.put(record);
    await first.close();
    expect(database.open).toBe(true);
    expect(await new SqliteActivationStore({ database, retention: { maxAgeMs: 60_000 } }).get('guest', record.activationId)).toEqual(record);
    database.close();
  });

  it("keeps its tables in the embedded backend's database, writing in the backend's transactions, and finds them after a reopen", async () => {
    const dataDir = join(dir, 'embedded');
    const record = activationRecord('guest', 'hello', Date.now());
    const first = await openEmbeddedBackend({ dataDir, log: silentLogger() });
    const store = new SqliteActivationStore({ database: first.database, write: (write) => first.write(write), retention: { maxAgeMs: 60_000 } });
    await store.putMany([record]);
    await store.close();
    await first.close();
    const again = await openEmbeddedBackend({ dataDir, log: silentLogger() });
    try {
      expect(await new SqliteActivationStore({ database: again.database, write: (write) => again.write(write), retention: { maxAgeMs: 60_000 } }).get('guest', record.activationId)).toEqual(record);
    } finally {
      await again.close();
    }
  });

  it('answers list, count and get from indexes, never a scan of the table', () => {
    const database = new Sqlite(':memory:');
    new SqliteActivationStore({ database, retention: { maxAgeMs: 60_000 } });
    const plan = (sql: string) =>
      (database.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((row) => row.detail).join('; ');
    expect(plan("SELECT record FROM kindling_activations WHERE namespace = 'g' ORDER BY start DESC, seq DESC LIMIT 30")).toMatch(/USING INDEX kindling_activations_by_start/);
    expect(plan("SELECT record FROM kindling_activations WHERE namespace = 'g' AND name = 'a' ORDER BY start DESC, seq DESC LIMIT 30")).toMatch(/USING INDEX kindling_activations_by_name/);
    expect(plan("SELECT count(*) FROM kindling_activations WHERE namespace = 'g'")).toMatch(/COVERING INDEX/);
    expect(plan("SELECT record FROM kindling_activations WHERE namespace = 'g' AND activation_id = 'x'")).toMatch(/USING INDEX kindling_activations_by_id/);
    database.close();
  });

  it('refuses bad options, naming the field', () => {
    expect(() => new SqliteActivationStore({ file: ':memory:', retention: { maxAgeMs: -1 } })).toThrow(expect.objectContaining({ code: 'KND_VALIDATION', field: 'retention.maxAgeMs' }));
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));
});
