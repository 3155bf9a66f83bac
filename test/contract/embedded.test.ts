import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, Streams, Subjects, type KvChange } from '@kindling/core';
import { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import { busContract } from './bus-contract.js';
import { storeContract } from './store-contract.js';
import { Inbox, pause, str, text, type OpenBackend } from './backend-under-test.js';
import { eventually } from '@kindling/test-support';

const log = silentLogger();
const openMemoryBackend: OpenBackend = () => openEmbeddedBackend({ log });
const openOnDisk: OpenBackend = async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kindling-contract-'));
  const backend = await openEmbeddedBackend({ dataDir, log });
  return {
    ...backend,
    close: async () => {
      await backend.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
};

describe('embedded backend in memory', () => {
  busContract(openMemoryBackend);
  storeContract(openMemoryBackend);
});

describe('embedded backend on a data directory', () => {
  busContract(openOnDisk);
  storeContract(openOnDisk);
});

describe('embedded backend across a restart on the same data directory', () => {
  let dataDir: string;
  let backend: EmbeddedBackend | undefined;
  const reopen = async () => {
    await backend?.close();
    backend = await openEmbeddedBackend({ dataDir, log });
    return backend;
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kindling-restart-'));
    backend = undefined;
  });
  afterEach(async () => {
    await backend?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps stored messages, the consumer position and unacked deliveries', async () => {
    const { bus } = await reopen();
    for (const n of [1, 2, 3]) await bus.publish(Subjects.event('guest', 't'), text(`m${n}`));
    // m1 acked, m2 delivered but never acked, m3 not delivered yet (one handler at a time, held).
    let hold!: () => void;
    const held = new Promise<void>((resolve) => (hold = resolve));
    const before = new Inbox(async (m) => {
      if (m.deliveryCount === 1 && str(m.data) === 'm1') return m.ack();
      await held;
    });
    await bus.consume({ durable: 'rules', filter: Subjects.allEvents, maxInFlight: 1 }, before.handler);
    await before.waitFor(2);
    expect(before.texts).toEqual(['m1', 'm2']);

    const closing = reopen();
    hold();
    const after = new Inbox();
    await (await closing).bus.consume({ durable: 'rules', filter: Subjects.allEvents }, after.handler);
    await after.waitFor(2);
    await pause(100);
    expect(after.received.map((m) => [str(m.data), m.deliveryCount])).toEqual([
      ['m2', 2],
      ['m3', 1],
    ]);
    expect((await backend!.streamInfo(Streams.events.name)).messages).toBe(3);
  });

  it('keeps the work queue without the acked invocations, and sequences keep growing', async () => {
    const { bus } = await reopen();
    const invoke = Subjects.invocation('guest', 'hello');
    await bus.publish(invoke, text('done'));
    const last = await bus.publish(invoke, text('todo'));
    const inbox = new Inbox((m) => (str(m.data) === 'done' ? m.ack() : undefined));
    await bus.consume({ durable: 'invoker', filter: Subjects.allInvocations, maxInFlight: 2 }, inbox.handler);
    await inbox.waitFor(2);

    const next = await reopen();
    expect((await next.streamInfo(Streams.invocations.name)).messages).toBe(1);
    const again = new Inbox();
    await next.bus.consume({ durable: 'invoker', filter: Subjects.allInvocations }, again.handler);
    await again.waitFor(1);
    expect(again.texts).toEqual(['todo']);
    expect((await next.bus.publish(invoke, text('new'))).seq).toBeGreaterThan(last.seq);
  });

  it('still absorbs a republished msgId, also for a message that left the work queue', async () => {
    const { bus } = await reopen();
    const event = await bus.publish(Subjects.event('guest', 't'), text('e'), { msgId: 'alarm-1' });
    const invocation = await bus.publish(Subjects.invocation('guest', 'a'), text('i'), { msgId: 'inv-1' });
    const inbox = new Inbox();
    await bus.consume({ durable: 'invoker', filter: Subjects.allInvocations }, inbox.handler);
    await inbox.waitFor(1);
    await pause(50);

    // Twice: what the first reopen wrote is read by the second.
    for (let i = 0; i < 2; i++) {
      const next = await reopen();
      expect(await next.bus.publish(Subjects.event('guest', 't'), text('e'), { msgId: 'alarm-1' })).toEqual({ ...event, duplicate: true });
      expect(await next.bus.publish(Subjects.invocation('guest', 'a'), text('i'), { msgId: 'inv-1' })).toEqual({ ...invocation, duplicate: true });
    }
    expect((await backend!.streamInfo(Streams.invocations.name)).messages).toBe(0);
  });

  it('keeps key-value entries, deletes and revisions', async () => {
    const { store } = await reopen();
    const bucket = await store.bucket('kindling_actions');
    await bucket.put('guest.a', text('a1'));
    const rB = await bucket.put('guest.b', text('b1'));
    await bucket.put('guest.gone', text('x'));
    await bucket.delete('guest.gone');
    const rA = await bucket.put('guest.a', text('a2'));
    await (await store.bucket('kindling_feeds')).put('guest.f', text('feed'));

    for (let i = 0; i < 2; i++) {
      const reopened = await (await reopen()).store.bucket('kindling_actions');
      expect(await reopened.get('guest.a')).toMatchObject({ key: 'guest.a', revision: rA });
      expect(str((await reopened.get('guest.a'))!.value)).toBe('a2');
      expect((await reopened.get('guest.b'))!.revision).toBe(rB);
      expect(await reopened.get('guest.gone')).toBeNull();
      expect((await reopened.keys()).sort()).toEqual(['guest.a', 'guest.b']);
      await expect(reopened.put('guest.a', text('stale'), { previousRevision: rA - 1 })).rejects.toMatchObject({ code: 'KND_CONFLICT' });
    }
    const bucket2 = await backend!.store.bucket('kindling_actions');
    // The delete of guest.gone had the last revision but one: revisions never go back.
    expect(await bucket2.put('guest.c', text('c'))).toBeGreaterThan(rA);
    expect(str((await (await backend!.store.bucket('kindling_feeds')).get('guest.f'))!.value)).toBe('feed');

    const watch = await bucket2.watch({ prefix: 'guest.' });
    const seen: Array<KvChange | 'initialized'> = [];
    for await (const change of watch) {
      seen.push(change);
      if (change === 'initialized') break;
    }
    expect(seen.filter((c) => c !== 'initialized').map((c) => (c as KvChange).key).sort()).toEqual(['guest.a', 'guest.b', 'guest.c']);
  });

  it('refuses a data directory of the record-log format, saying what to do, and touches nothing in it', async () => {
    // The files the record-log backend (before SQLite) wrote: JSON lines setting pieces of state.
    const busLog = ['{"t":"seq","s":"KINDLING_EVENTS","q":1}', `{"t":"msg","s":"KINDLING_EVENTS","q":1,"j":"kindling.events.guest.t","d":"${Buffer.from('e').toString('base64')}","ts":${Date.now()}}`, '{"t":"con","n":"rules","s":"KINDLING_EVENTS","f":"kindling.events.>","w":30000}', ''].join('\n');
    const actionsLog = `{"r":1}\n{"r":1,"k":"guest.a","v":"${Buffer.from('{}').toString('base64')}"}\n`;
    await mkdir(join(dataDir, 'kv'), { recursive: true });
    await writeFile(join(dataDir, 'bus.log'), busLog);
    await writeFile(join(dataDir, 'kv', 'kindling_actions.log'), actionsLog);

    const refusal = openEmbeddedBackend({ dataDir, log });
    await expect(refusal).rejects.toMatchObject({ code: 'KND_STORE_UNAVAILABLE', field: 'dataDir' });
    const message = ((await refusal.catch((error: unknown) => error)) as Error).message;
    expect(message).toContain('record-log format');
    expect(message).toContain(`mv ${dataDir} ${dataDir}.old`);
    expect(message).toContain('--data-dir');
    expect(await readFile(join(dataDir, 'bus.log'), 'utf8')).toBe(busLog);
    expect(await readFile(join(dataDir, 'kv', 'kindling_actions.log'), 'utf8')).toBe(actionsLog);
    expect((await readdir(dataDir)).sort()).toEqual(['bus.log', 'kv']);

    // Moved aside, as the message says: the directory opens (the lock was released).
    await rm(join(dataDir, 'bus.log'));
    await rm(join(dataDir, 'kv'), { recursive: true });
    const { store } = await reopen();
    expect(await (await store.bucket('kindling_actions')).get('guest.a')).toBeNull();
  });

  it('refuses a second backend on a data directory in use, and takes over after close', async () => {
    await reopen();
    await expect(openEmbeddedBackend({ dataDir, log })).rejects.toMatchObject({ code: 'KND_CONFLICT', field: 'dataDir' });
    await backend!.close();
    backend = await openEmbeddedBackend({ dataDir, log });
  });

  it('drops events older than eventsMaxAgeMs, and keeps invocations', async () => {
    backend = await openEmbeddedBackend({ dataDir, log, eventsMaxAgeMs: 100 });
    await backend.bus.publish(Subjects.event('guest', 't'), text('old'));
    await backend.bus.publish(Subjects.invocation('guest', 'a'), text('run'));
    await eventually(async () => (await backend!.streamInfo(Streams.events.name)).messages === 0, 'the old event to leave');
    expect((await backend.streamInfo(Streams.invocations.name)).messages).toBe(1);
  });

  it('acknowledges publishes and writes after fdatasync when asked to', async () => {
    backend = await openEmbeddedBackend({ dataDir, log, fsync: true });
    const acks = await Promise.all([1, 2, 3].map((n) => backend!.bus.publish(Subjects.event('guest', 't'), text(`m${n}`))));
    await (await backend.store.bucket('kindling_cursors')).put('feed.1', text('c'));
    const reopened = await reopen();
    expect((await reopened.streamInfo(Streams.events.name)).lastSeq).toBe(Math.max(...acks.map((a) => a.seq)));
    expect(str((await (await reopened.store.bucket('kindling_cursors')).get('feed.1'))!.value)).toBe('c');
  });

  it('refuses bad options, naming the field', async () => {
    await expect(openEmbeddedBackend({ dataDir, scope: 'a.b', log })).rejects.toMatchObject({ code: 'KND_VALIDATION', field: 'options.scope' });
  });
});
