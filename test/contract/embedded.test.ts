import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
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

    // Twice: the first reopen compacts the log, the second reads the compacted one.
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

  it('ignores a torn last line, as a crash in the middle of a write leaves it', async () => {
    const bucket = await (await reopen()).store.bucket('kindling_cursors');
    await bucket.put('feed.1', text('cursor-1'));
    await backend!.close();
    backend = undefined;
    await appendFile(join(dataDir, 'kv', 'kindling_cursors.log'), '{"r":9,"k":"feed.1","v":"Y3');
    const reopened = await (await reopen()).store.bucket('kindling_cursors');
    expect(str((await reopened.get('feed.1'))!.value)).toBe('cursor-1');
    expect(await readFile(join(dataDir, 'kv', 'kindling_cursors.log'), 'utf8')).not.toContain('"r":9');
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
