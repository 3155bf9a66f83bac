import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DUPLICATE_WINDOW_MS, encodeJson, silentLogger, Streams, Subjects, type BusMessage } from '@kindling/core';
import { applyMigrations, openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import { eventually, FakeClock } from '@kindling/test-support';

const log = silentLogger();

describe('embedded backend on SQLite: bounded state, files, shared database', () => {
  let dataDir: string;
  let backend: EmbeddedBackend | undefined;
  const rows = (table: string) => (backend!.database.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  /** Rows of every stream's table (`bus_messages_<stream>`). */
  const messageRows = () =>
    (backend!.database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'bus_messages_%'").all() as Array<{ name: string }>).reduce((sum, table) => sum + rows(table.name), 0);

  beforeEach(async () => (dataDir = await mkdtemp(join(tmpdir(), 'kindling-bounded-'))));
  afterEach(async () => {
    await backend?.close();
    backend = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps no row of an invocation once it is acked, however many passed', async () => {
    backend = await openEmbeddedBackend({ dataDir, log });
    const count = 5_000;
    let acked = 0;
    await backend.bus.consume({ durable: 'invoker', filter: Subjects.allInvocations, maxInFlight: 64 }, async (m: BusMessage) => {
      m.ack();
      acked++;
    });
    await Promise.all(Array.from({ length: count }, (_, i) => backend!.bus.publish(Subjects.invocation('guest', `a${i % 7}`), encodeJson({ i }), { msgId: `inv-${i}` })));
    await eventually(() => acked === count, `${count} acks (got ${acked})`);
    await backend.write(() => undefined); // the turn's settlements are committed

    expect(messageRows()).toBe(0);
    expect(rows('bus_deliveries')).toBe(0);
    expect(await backend.streamInfo(Streams.invocations.name)).toEqual({ messages: 0, lastSeq: count });
  });

  it('deletes events past their max age and msgIds past the duplicate window, in slices', async () => {
    // Publish times and the cutoffs come from this clock; the pruning timer is the system's.
    const clock = new FakeClock();
    backend = await openEmbeddedBackend({ dataDir, log, clock, eventsMaxAgeMs: 60_000 });
    const count = 2_000; // several slices
    await Promise.all(Array.from({ length: count }, (_, i) => backend!.bus.publish(Subjects.event('guest', 't'), encodeJson({ i }), { msgId: `e-${i}` })));
    await backend.bus.publish(Subjects.deadLetter('events', 'guest', 't'), encodeJson({ kept: true }), { msgId: 'dead-1' });
    expect(messageRows()).toBe(count + 1);
    expect(rows('bus_msg_ids')).toBe(count + 1);

    await clock.advance(Math.max(60_000, DUPLICATE_WINDOW_MS) + 1_000);
    const fresh = await backend.bus.publish(Subjects.event('guest', 't'), encodeJson({ fresh: true }));
    await eventually(() => rows('bus_msg_ids') === 0 && messageRows() === 2, 'expired events and msgIds to go');

    expect(await backend.streamInfo(Streams.events.name)).toEqual({ messages: 1, lastSeq: fresh.seq });
    expect((await backend.streamInfo(Streams.deadLetters.name)).messages).toBe(1);
    // Past the window, the same msgId is a new message.
    expect((await backend.bus.publish(Subjects.event('guest', 't'), encodeJson({ i: 0 }), { msgId: 'e-0' })).duplicate).toBe(false);
  });

  it('keeps its files to the owner: directory 0700, database and its WAL 0600', async () => {
    backend = await openEmbeddedBackend({ dataDir, scope: 'private', log });
    await backend.bus.publish(Subjects.event('guest', 't'), encodeJson({}));
    const dir = join(dataDir, 'private');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const files = (await readdir(dir)).filter((name) => name.startsWith('kindling.db'));
    expect(files.sort()).toEqual(['kindling.db', 'kindling.db-shm', 'kindling.db-wal']);
    for (const name of [...files, 'LOCK']) expect(((await stat(join(dir, name))).mode & 0o777).toString(8)).toBe('600');
  });

  it('lets another component keep its tables in the same file, written in the same transactions', async () => {
    backend = await openEmbeddedBackend({ dataDir, log });
    applyMigrations(backend.database, 'test_notes', ['CREATE TABLE test_notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL)']);
    const insert = backend.database.prepare('INSERT INTO test_notes (note) VALUES (?)');
    const [, ack] = await Promise.all([backend.write(() => insert.run('beside the bus')), backend.bus.publish(Subjects.event('guest', 't'), encodeJson({}))]);
    await backend.close();

    backend = await openEmbeddedBackend({ dataDir, log });
    applyMigrations(backend.database, 'test_notes', ['CREATE TABLE test_notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL)']);
    expect(backend.database.prepare('SELECT note FROM test_notes').all()).toEqual([{ note: 'beside the bus' }]);
    expect((await backend.streamInfo(Streams.events.name)).lastSeq).toBe(ack.seq);
    const versions = backend.database.prepare('SELECT component, version FROM schema_versions ORDER BY component').all();
    expect(versions).toEqual([
      { component: 'bus', version: 1 },
      { component: 'kv', version: 1 },
      { component: 'test_notes', version: 1 },
    ]);
  });

  it('refuses a database whose schema is newer than it knows', async () => {
    backend = await openEmbeddedBackend({ dataDir, log });
    backend.database.prepare("UPDATE schema_versions SET version = 99 WHERE component = 'bus'").run();
    await backend.close();
    backend = undefined;
    await expect(openEmbeddedBackend({ dataDir, log })).rejects.toMatchObject({ code: 'KND_STORE_UNAVAILABLE', message: expect.stringContaining('schema version 99') });
  });

  it('lets several subscribers open a new durable in the same turn, sharing one consumer', async () => {
    backend = await openEmbeddedBackend({ log });
    const seen: number[] = [];
    const handler = async (m: BusMessage) => {
      seen.push(m.seq);
      m.ack();
    };
    const options = { durable: 'invoker', filter: Subjects.allInvocations, maxInFlight: 4 };
    await Promise.all([backend.bus.consume(options, handler), backend.bus.consume(options, handler)]);
    const acks = await Promise.all(Array.from({ length: 20 }, (_, i) => backend!.bus.publish(Subjects.invocation('guest', 'a'), encodeJson({ i }))));
    await eventually(() => seen.length >= acks.length, `${acks.length} deliveries`);
    expect(seen.sort((a, b) => a - b)).toEqual(acks.map((ack) => ack.seq));
    expect(backend.database.prepare('SELECT name FROM bus_consumers').all()).toEqual([{ name: 'invoker' }]);
  });
});
