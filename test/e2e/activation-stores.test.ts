import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { createLogger, KeyValueActivationStore, randomId } from '@kindling/core';
import { connectNatsBackend } from '@kindling/nats';
import { startPlatform, type PlatformOptions, type RunningPlatform } from '@kindling/platform';
import { describeWithNats, describeWithService, NATS_URL, openwhiskClient } from '@kindling/test-support';

/**
 * Where the platform keeps activation records, as a user starts it: SQLite in the data directory
 * on the embedded backend (kept across a restart); PostgreSQL, shared by processes running
 * different roles, with `--activations` on NATS.
 */
const ADMIN_URL = process.env.KINDLING_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DOUBLE = 'function main(p) { return { twice: (p.n ?? 0) * 2 }; }';

function baseOptions(dataDir: string): PlatformOptions {
  return {
    port: 0,
    host: '127.0.0.1',
    dataDir,
    runtime: 'process',
    providers: [],
    mqtt: false,
    log: createLogger({ level: process.env.KINDLING_LOG_LEVEL ?? 'warn', name: 'e2e-activations' }),
  };
}

describe('activation records on the embedded backend', () => {
  let dataDir: string;
  let platform: RunningPlatform | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kindling-activations-e2e-'));
  });
  afterAll(async () => {
    await platform?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('are kept in SQLite in the data directory, and found again after a restart', async () => {
    platform = await startPlatform(baseOptions(dataDir));
    const ow = openwhiskClient(platform.apiUrl!, platform.guestAuth);
    await ow.actions.create({ name: 'double', action: DOUBLE, kind: 'nodejs:20' });
    const run = await ow.actions.invoke({ name: 'double', params: { n: 4 }, blocking: true });
    expect(run.response?.result).toEqual({ twice: 8 });
    await platform.stop();
    platform = undefined;

    // In the embedded backend's own database file (one file to back up).
    const files = (await readdir(dataDir, { recursive: true })).filter((file) => file.endsWith('kindling.db')).map((file) => join(dataDir, file));
    const found = files.flatMap((file) => {
      try {
        const db = new Sqlite(file, { readonly: true, fileMustExist: true });
        try {
          return db.prepare('SELECT activation_id FROM kindling_activations WHERE activation_id = ?').all(run.activationId);
        } finally {
          db.close();
        }
      } catch {
        return [];
      }
    });
    expect(found).toHaveLength(1);

    platform = await startPlatform(baseOptions(dataDir));
    const again = openwhiskClient(platform.apiUrl!, platform.guestAuth);
    expect((await again.activations.get({ name: run.activationId })).response?.result).toEqual({ twice: 8 });
    expect(await (again.activations.list as (o: object) => Promise<unknown>).call(again.activations, { name: 'double', count: true })).toEqual({ activations: 1 });
  });
});

const describeNats = await describeWithNats();
const { hostname, port } = new URL(ADMIN_URL);
const describePostgres = await describeWithService('PostgreSQL', hostname, Number(port || 5432));

describeNats('activation records in PostgreSQL, shared by processes running different roles', () => {
  describePostgres('with --activations postgres://…', () => {
    const scope = `e2e-acts-${randomId(4)}`;
    const database = `kindling_e2e_activations_${randomId(4)}`;
    const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${database}` }).toString();
    const parts: RunningPlatform[] = [];
    let dataDir: string;
    const admin = async (sql: string) => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        return await client.query(sql);
      } finally {
        await client.end();
      }
    };
    const options = (roles: PlatformOptions['roles']): PlatformOptions => ({ ...baseOptions(dataDir), natsUrl: NATS_URL, natsScope: scope, roles, activations: { url } });

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'kindling-activations-e2e-'));
      await admin(`CREATE DATABASE ${database}`);
      parts.push(await startPlatform(options(['invoker'])));
      parts.push(await startPlatform(options(['api', 'providers', 'rules'])));
    });

    afterAll(async () => {
      for (const part of parts.reverse()) await part.stop();
      const backend = await connectNatsBackend({ servers: NATS_URL, scope });
      await backend.destroyScope();
      await backend.close();
      await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await rm(dataDir, { recursive: true, force: true });
    });

    it('the invoker of one process writes the record the API of another reads, and none goes to the key-value store', async () => {
      const front = parts.find((part) => part.apiUrl)!;
      const ow = openwhiskClient(front.apiUrl!, front.guestAuth);
      await ow.actions.create({ name: 'double', action: DOUBLE, kind: 'nodejs:20' });
      const run = await ow.actions.invoke({ name: 'double', params: { n: 21 }, blocking: true });
      expect(run.response?.result).toEqual({ twice: 42 });
      expect((await ow.activations.get({ name: run.activationId })).response?.result).toEqual({ twice: 42 });
      expect(await (ow.activations.list as (o: object) => Promise<unknown>).call(ow.activations, { name: 'double', count: true })).toEqual({ activations: 1 });

      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const rows = await client.query('SELECT name FROM kindling_activations WHERE activation_id = $1', [run.activationId]);
      await client.end();
      expect(rows.rows).toEqual([{ name: 'double' }]);
      const backend = await connectNatsBackend({ servers: NATS_URL, scope });
      const kv = await KeyValueActivationStore.open(backend.store);
      expect(await kv.count('guest')).toBe(0);
      await backend.close();
    });
  });
});
