import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { silentLogger } from '@kindling/sdk';
import { type FeedRecord, type FeedRepository, type ProviderRegistry, eventually, type FeedHarness } from '@kindling/provider-testkit';
import type pg from 'pg';
import type { PgChange } from './change-assembler.js';
import { describeWithService } from '@kindling/test-support';
import { replicationNameFor, type PgChangesParams } from './params.js';
import { pgChangesKind } from './pg-provider.js';
import { dropReplicationLeftovers, openPgHarness, openTestSchema, PG_URL, replicationObjects } from './testing/pg-fixtures.js';

// Against the real PostgreSQL on 127.0.0.1:5432 (wal_level = logical: .ci/run sets it), driven
// through the real FeedHost on the embedded backend.
const describePg = await describeWithService('PostgreSQL', '127.0.0.1', 5432);

describePg('postgres/changes feed', () => {
  let schema: string;
  let sql: pg.Client;
  let dropSchema: () => Promise<void>;
  let harness: FeedHarness;
  let registry: ProviderRegistry;
  let repo: FeedRepository;
  let slots: string[];
  let logLines: string[];

  beforeAll(async () => {
    ({ schema, sql, drop: dropSchema } = await openTestSchema());
    await sql.query(`CREATE TABLE ${schema}.items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), tags text[], meta jsonb)`);
    await sql.query(`CREATE TABLE ${schema}.ledger (id int PRIMARY KEY, amount int)`);
    await sql.query(`ALTER TABLE ${schema}.ledger REPLICA IDENTITY FULL`);
    await sql.query(`CREATE TABLE ${schema}.loose (note text)`);
  });

  afterAll(async () => {
    await dropSchema();
  });

  beforeEach(async () => {
    harness = await openPgHarness();
    ({ registry, repo, logLines } = harness);
    slots = [];
  });

  afterEach(async () => {
    await harness.close();
    await dropReplicationLeftovers(slots);
  });

  const createFeed = async (params: Record<string, unknown>, trigger = 'changes') => {
    const record = await harness.feedRecord({ connection: PG_URL, ...params }, { trigger });
    slots.push(replicationNameFor(record.id, record.params));
    return harness.putRecord(record);
  };
  const host = (id = 'h1') => harness.startHost({ hostId: id });
  const describeFeed = (feed: FeedRecord) =>
    pgChangesKind.describe?.(
      { ...feed, params: feed.params as PgChangesParams },
      { log: silentLogger(), signal: new AbortController().signal, cursor: { get: async () => undefined, set: async () => undefined }, hookUrl: '' },
    );
  const active = (feedId: string) => eventually(async () => (await harness.statusOf(feedId))?.status === 'active', 'feed active');

  it('fires inserts, updates, deletes and truncates with the rows, the old row where the replica identity allows, and the commit time', async () => {
    const feed = await createFeed({ tables: `${schema}.items, ${schema}.ledger` });
    await host();
    await active(feed.id);
    const { events, consumption } = await harness.collectEvents<PgChange>({ trigger: 'changes' });

    await sql.query(`INSERT INTO ${schema}.items VALUES (1, 'lamp', 19.90, '{desk,led}', '{"color":"red"}')`);
    await sql.query(`BEGIN; UPDATE ${schema}.items SET price = 17.50 WHERE id = 1; DELETE FROM ${schema}.items WHERE id = 1; COMMIT`);
    await sql.query(`INSERT INTO ${schema}.ledger VALUES (7, 100)`);
    await sql.query(`UPDATE ${schema}.ledger SET amount = 120 WHERE id = 7`);
    await sql.query(`DELETE FROM ${schema}.ledger WHERE id = 7`);
    await sql.query(`TRUNCATE ${schema}.items, ${schema}.ledger`);
    await eventually(() => events.length >= 8, '8 events');
    await consumption.stop();

    const data = events.map((e) => e.data);
    expect(data.map((d) => `${d.table} ${d.operation}`)).toEqual([
      'items insert',
      'items update',
      'items delete',
      'ledger insert',
      'ledger update',
      'ledger delete',
      'items truncate',
      'ledger truncate',
    ]);
    expect(data[0]).toMatchObject({ schema, new: { id: 1, name: 'lamp', price: '19.90', tags: ['desk', 'led'], meta: { color: 'red' } } });
    // Primary-key identity: no old row for an update that kept the key; the key alone for a delete.
    expect(data[1]).toMatchObject({ new: { id: 1, price: '17.50' } });
    expect(data[1]).not.toHaveProperty('old');
    expect(data[2]).toEqual(expect.objectContaining({ old: { id: 1 }, oldKeyOnly: true }));
    expect(data[2]).not.toHaveProperty('new');
    // REPLICA IDENTITY FULL: the whole old row.
    expect(data[4]).toMatchObject({ old: { id: 7, amount: 100 }, new: { id: 7, amount: 120 }, oldKeyOnly: false });
    expect(data[5]).toMatchObject({ old: { id: 7, amount: 120 }, oldKeyOnly: false });
    expect(data[6]).toMatchObject({ operation: 'truncate', cascade: false, restartIdentity: false });

    // The update and the delete share a transaction: one commit LSN, positions 0 and 1.
    expect(events[1]?.id).toBe(`${data[1]?.lsn}:0`);
    expect(events[2]?.id).toBe(`${data[1]?.lsn}:1`);
    expect(new Set(events.map((e) => e.id)).size).toBe(8);
    expect(events[0]).toMatchObject({ type: 'dev.kindling.postgres.changes', subject: `${schema}.items`, time: data[0]?.commitTime });
    expect(Math.abs(Date.parse(events[0]?.time ?? '') - Date.now())).toBeLessThan(60_000);
  });

  it('fires only the operations asked for', async () => {
    const feed = await createFeed({ tables: `${schema}.ledger`, operations: 'insert,delete' }, 'ledger-inserts');
    await host();
    await active(feed.id);
    const { events, consumption } = await harness.collectEvents<PgChange>({ trigger: 'ledger-inserts' });
    await sql.query(`INSERT INTO ${schema}.ledger VALUES (20, 1)`);
    await sql.query(`UPDATE ${schema}.ledger SET amount = 2 WHERE id = 20`);
    await sql.query(`DELETE FROM ${schema}.ledger WHERE id = 20`);
    await sql.query(`TRUNCATE ${schema}.ledger`);
    await sql.query(`INSERT INTO ${schema}.ledger VALUES (21, 1)`);
    await eventually(() => events.length >= 3, '3 events');
    await consumption.stop();
    expect(events.map((e) => `${e.data.operation} ${e.data.new?.id ?? e.data.old?.id}`)).toEqual(['insert 20', 'delete 20', 'insert 21']);
  });

  it('fires the changes made while no host ran once each, in commit order, and READ shows the slot lag meanwhile', async () => {
    const feed = await createFeed({ tables: `${schema}.items` }, 'downtime');
    const first = await host('h1');
    await active(feed.id);
    await sql.query(`INSERT INTO ${schema}.items (id, name) VALUES (100, 'before')`);
    const { events, consumption } = await harness.collectEvents<PgChange>({ trigger: 'downtime' });
    await eventually(() => events.length === 1, 'first event');
    await harness.stopHost(first);

    for (let i = 101; i <= 130; i++) await sql.query(`INSERT INTO ${schema}.items (id, name) VALUES ($1, 'while down')`, [i]);
    await sql.query(`UPDATE ${schema}.items SET name = 'renamed' WHERE id BETWEEN 101 AND 130`);
    const lag = await eventually(async () => {
      const described = await describeFeed(feed);
      return described?.slotActive === false ? described : undefined;
    }, 'slot released');
    expect(lag).toMatchObject({ slot: replicationNameFor(feed.id, feed.params), slotExists: true });
    expect(Number(lag?.lagBytes)).toBeGreaterThan(0);

    await host('h2');
    await eventually(() => events.length >= 61, '61 events');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumption.stop();
    expect(events).toHaveLength(61);
    expect(new Set(events.map((e) => e.id)).size).toBe(61);
    const inserts = events.slice(1, 31).map((e) => e.data.new?.id);
    expect(inserts).toEqual(Array.from({ length: 30 }, (_, i) => 101 + i));
    expect(events.slice(31).every((e) => e.data.operation === 'update' && e.data.new?.name === 'renamed')).toBe(true);
  });

  it('recovers when the server ends its replication connection, losing and repeating nothing', async () => {
    const feed = await createFeed({ tables: `${schema}.items` }, 'recover');
    const name = replicationNameFor(feed.id, feed.params);
    await host();
    await active(feed.id);
    const { events, consumption } = await harness.collectEvents<PgChange>({ trigger: 'recover' });
    await sql.query(`INSERT INTO ${schema}.items (id, name) VALUES (300, 'before')`);
    await eventually(() => events.length === 1, 'first event');
    await sql.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1', [name]);
    await sql.query(`INSERT INTO ${schema}.items (id, name) VALUES (301, 'while reconnecting')`);
    await eventually(async () => (await harness.statusOf(feed.id))?.failures === 1, 'failure recorded');
    await active(feed.id);
    await sql.query(`INSERT INTO ${schema}.items (id, name) VALUES (302, 'after')`);
    await eventually(() => events.length >= 3, '3 events');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumption.stop();
    expect(events.map((e) => e.data.new?.id)).toEqual([300, 301, 302]);
  });

  it('follows a change of its parameters: an UPDATE that adds a table brings that table into the publication', async () => {
    const feed = await createFeed({ tables: `${schema}.items`, operations: 'insert' }, 'updated');
    const first = await host();
    await active(feed.id);
    const { events, consumption } = await harness.collectEvents<PgChange>({ trigger: 'updated' });
    await sql.query(`INSERT INTO ${schema}.ledger VALUES (400, 1)`);
    const params = await registry.validateParams('postgres', 'changes', { connection: PG_URL, tables: `${schema}.items,${schema}.ledger`, operations: 'insert' }, { log: silentLogger(), signal: new AbortController().signal });
    await repo.feeds.put(feed.id, { ...feed, params, generation: 2 });
    await eventually(async () => (await harness.statusOf(feed.id))?.generation === 2 && first.runningFeeds().includes(feed.id), 'restarted on generation 2');
    await sql.query(`INSERT INTO ${schema}.ledger VALUES (401, 1)`);
    await sql.query(`INSERT INTO ${schema}.items (id, name) VALUES (402, 'x')`);
    await eventually(() => events.length >= 2, '2 events');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumption.stop();
    expect(events.map((e) => `${e.data.table} ${e.data.new?.id}`)).toEqual(['ledger 401', 'items 402']);
  });

  it('drops its replication slot and publication when the feed is deleted, and READ shows the lag until then', async () => {
    const feed = await createFeed({ tables: `${schema}.items` }, 'deleted');
    const name = replicationNameFor(feed.id, feed.params);
    await host();
    await active(feed.id);
    expect(await replicationObjects(name)).toEqual({ slot: true, publication: true });
    const described = await describeFeed(feed);
    expect(described).toMatchObject({ slot: name, publication: name, slotExists: true, slotActive: true });
    expect(typeof described?.lagBytes).toBe('number');
    expect(JSON.stringify(described)).not.toContain('postgres://');

    await repo.feeds.put(feed.id, { ...feed, desired: 'deleted', generation: 2 });
    await eventually(async () => (await repo.feeds.get(feed.id)) === null, 'feed record removed');
    expect(await replicationObjects(name)).toEqual({ slot: false, publication: false });
  });

  it('refuses at CREATE a server it cannot reach, a missing table, and a table whose writes publishing would break, naming the field', async () => {
    const validate = (params: Record<string, unknown>) =>
      registry.validateParams('postgres', 'changes', { connection: PG_URL, tables: `${schema}.items`, ...params }, { log: silentLogger(), signal: new AbortController().signal });

    const unreachable = validate({ connection: 'postgres://app:Sup3r-Secret@127.0.0.1:1/test' });
    await expect(unreachable).rejects.toMatchObject({ code: 'KND_BAD_FEED_PARAMS', status: 400, field: 'connection' });
    await expect(unreachable).rejects.toThrow(/cannot connect to PostgreSQL: .*ECONNREFUSED/);
    await expect(unreachable.catch((error: Error) => error.message)).resolves.not.toContain('Sup3r-Secret');

    await expect(validate({ connection: 'postgres://postgres:Sup3r-Secret@127.0.0.1:5432/no_such_db_kindling' })).rejects.toThrow(
      /'connection': cannot connect to PostgreSQL: database "no_such_db_kindling" does not exist/,
    );
    await expect(validate({ tables: `${schema}.items,${schema}.nope` })).rejects.toMatchObject({
      field: 'tables',
      message: expect.stringContaining(`table ${schema}.nope does not exist in database 'test'`),
    });
    await expect(validate({ tables: `${schema}.loose` })).rejects.toThrow(/'tables': table .*loose has no primary key or replica identity/);
    await expect(validate({ tables: `${schema}.loose`, operations: 'insert,truncate' })).resolves.toMatchObject({ tables: [`${schema}.loose`] });
  });

  it('disables a feed whose database is gone, with a reason that names it and never the password', async () => {
    const feed = await createFeed({ tables: `${schema}.items` }, 'gone');
    const broken = { ...feed, params: { ...feed.params, connection: 'postgres://postgres:Sup3r-Secret-Pw@127.0.0.1:5432/no_such_db_kindling' } };
    await repo.feeds.put(feed.id, broken);
    await host();
    const status = await eventually(async () => {
      const s = await harness.statusOf(feed.id);
      return s?.status === 'disabled' ? s : undefined;
    }, 'feed disabled');
    expect(status.reason).toMatch(/the database does not exist: database "no_such_db_kindling" does not exist/);
    expect(status.reason).not.toContain('Sup3r-Secret-Pw');
    expect(logLines.join('')).not.toContain('Sup3r-Secret-Pw');
  });
});
