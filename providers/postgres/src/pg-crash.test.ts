import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { silentLogger } from '@kindling/sdk';
import { Streams, openEmbeddedBackend, eventually } from '@kindling/provider-testkit';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { describeWithService } from '@kindling/test-support';
import type { PgChange } from './change-assembler.js';
import { replicationNameFor } from './params.js';
import { dropReplicationLeftovers, openPgHarness, openTestSchema, PG_URL } from './testing/pg-fixtures.js';

// A provider host killed with SIGKILL in the middle of a large transaction, and changes made
// while it is dead: after a new host starts on the same data directory, every change has fired
// exactly once (counted by event id and by row), in commit order per row. Real PostgreSQL, a real
// child process running the built packages (`npm test` builds first), the embedded backend on
// disk. Killing mid-transaction is what catches a feed that confirms a position before its
// events are durable: the rest of that transaction would never fire.
const describePg = await describeWithService('PostgreSQL', '127.0.0.1', 5432);
const here = dirname(fileURLToPath(import.meta.url));
const TRANSACTIONS = 400;
const KILL_AFTER = 100;
const BIG_TRANSACTION_ROWS = 2000;

describePg('postgres/changes across a crash of its host', () => {
  let schema: string;
  let sql: pg.Client;
  let dropSchema: () => Promise<void>;
  let dataDir: string;
  let child: ChildProcess | undefined;
  let slot: string | undefined;

  beforeAll(async () => {
    ({ schema, sql, drop: dropSchema } = await openTestSchema());
    await sql.query(`CREATE TABLE ${schema}.rows (id int PRIMARY KEY, version int NOT NULL)`);
    dataDir = await mkdtemp(join(tmpdir(), 'kindling-pg-crash-'));
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await dropReplicationLeftovers(slot ? [slot] : []);
    await dropSchema();
    await rm(dataDir, { recursive: true, force: true });
  });

  let durableInChild = 0;
  const startChild = async (): Promise<ChildProcess> => {
    const built = ['core', 'embedded'].map((p) => join(here, '../../../packages', p, 'dist/index.js')).concat(join(here, '../dist/index.js'));
    const missing = built.filter((file) => !existsSync(file));
    if (missing.length > 0) throw new Error(`the crash test runs the built packages; run npm run build first (missing ${missing.join(', ')})`);
    const proc = spawn(process.execPath, [join(here, 'testing/crash-host.mjs'), dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    await new Promise<void>((resolve, reject) => {
      proc.stdout?.on('data', (chunk) => {
        const text = String(chunk);
        durableInChild += text.split('.').length - 1;
        if (text.includes('ready')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`the host process exited (${code}) before it was ready: ${stderr}`)));
    });
    return proc;
  };

  const slotPosition = async (name: string) =>
    (await sql.query<{ active: boolean; lsn: string }>('SELECT active, confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [name])).rows[0];

  /** Transaction i inserts row i; every fourth also bumps row i-1 and deletes row i-2. */
  const writeTransaction = async (i: number) => {
    if (i % 4 === 0) {
      await sql.query('BEGIN');
      await sql.query(`INSERT INTO ${schema}.rows VALUES ($1, 0)`, [i]);
      await sql.query(`UPDATE ${schema}.rows SET version = version + 1 WHERE id = $1`, [i - 1]);
      await sql.query(`DELETE FROM ${schema}.rows WHERE id = $1`, [i - 2]);
      await sql.query('COMMIT');
    } else {
      await sql.query(`INSERT INTO ${schema}.rows VALUES ($1, 0)`, [i]);
    }
  };

  it('loses nothing and fires nothing twice', async () => {
    const setup = await openEmbeddedBackend({ dataDir, log: silentLogger() });
    const feed = await (await openPgHarness(setup)).putFeed({ connection: PG_URL, tables: `${schema}.rows` }, { trigger: 'crash' });
    slot = replicationNameFor(feed.id, feed.params);
    await setup.close();

    child = await startChild();
    const name = slot;
    const initial = await eventually(async () => {
      const position = await slotPosition(name);
      return position?.active ? position : undefined;
    }, 'the slot streaming to the host process');

    for (let i = 1; i <= TRANSACTIONS; i++) {
      await writeTransaction(i);
      if (i === KILL_AFTER) {
        await eventually(async () => (await slotPosition(name))?.lsn !== initial.lsn, 'a confirmed position');
        const before = durableInChild;
        await sql.query(`INSERT INTO ${schema}.rows SELECT g, 0 FROM generate_series(100001, ${100_000 + BIG_TRANSACTION_ROWS}) g`);
        await eventually(() => durableInChild >= before + BIG_TRANSACTION_ROWS / 2, 'half of the large transaction durable');
        child.kill('SIGKILL');
        await new Promise((resolve) => child?.once('exit', resolve));
        expect(durableInChild).toBeLessThan(before + BIG_TRANSACTION_ROWS);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }

    const backend = await openEmbeddedBackend({ dataDir, log: silentLogger() });
    const harness = await openPgHarness(backend);
    try {
      const firedBeforeRestart = (await backend.streamInfo(Streams.events.name)).messages;
      const { events, consumption } = await harness.collectEvents<PgChange>({ trigger: 'crash' });
      await harness.startHost({ hostId: 'after-crash' });
      const expected = TRANSACTIONS + 2 * (TRANSACTIONS / 4) + BIG_TRANSACTION_ROWS;
      await eventually(() => events.length >= expected, `${expected} events`, 30_000);
      // Give a duplicate, if any were coming, the time to arrive.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await consumption.stop();

      expect(firedBeforeRestart).toBeGreaterThan(0);
      expect(firedBeforeRestart).toBeLessThan(expected);
      expect(events.length).toBe(expected);
      expect(new Set(events.map((e) => e.id)).size).toBe(expected);
      const byRow = new Map<number, string[]>();
      for (const { data } of events) {
        const id = Number((data.new ?? data.old)?.id);
        byRow.set(id, [...(byRow.get(id) ?? []), data.operation]);
      }
      for (let i = 1; i <= TRANSACTIONS; i++) {
        const bumped = (i + 1) % 4 === 0;
        const deleted = (i + 2) % 4 === 0 && i + 2 <= TRANSACTIONS;
        expect([i, byRow.get(i)]).toEqual([i, ['insert', ...(bumped ? ['update'] : []), ...(deleted ? ['delete'] : [])]]);
      }
      for (let i = 100_001; i <= 100_000 + BIG_TRANSACTION_ROWS; i++) expect([i, byRow.get(i)]).toEqual([i, ['insert']]);
    } finally {
      await harness.close();
      await backend.close();
    }
  }, 60_000);
});
