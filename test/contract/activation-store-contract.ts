import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  activationIdFor,
  activationResponse,
  silentLogger,
  type ActivationRecord,
  type ActivationRetention,
  type ActivationStatusCode,
  type ActivationStore,
} from '@kindling/core';
import { ActivationPruner } from '@kindling/activations';
import { FakeClock } from '@kindling/test-support';

/** Opens a fresh, empty store of the engine under test; `close` also removes what it made. */
export type OpenActivationStore = (retention: ActivationRetention) => Promise<ActivationStore>;

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 11, 4, 12);
const WEEK = { maxAgeMs: 7 * DAY };

export function activationRecord(namespace: string, name: string, start: number, status: ActivationStatusCode = 0, n = 0): ActivationRecord {
  return {
    namespace,
    name,
    subject: namespace,
    activationId: activationIdFor(start, namespace, name, String(n)),
    start,
    end: start + 5,
    duration: 5,
    response: activationResponse(status, status === 0 ? { n } : { error: `failed ${n}` }),
    logs: [`${new Date(start).toISOString()} stdout: run ${n}`],
    annotations: [{ key: 'kind', value: 'nodejs:20' }],
    version: '0.0.1',
    publish: false,
  };
}

/** `count` records of namespace `ns`, one a second before NOW, alternating names `a`/`b`, every fifth failed. */
function series(ns: string, count: number): ActivationRecord[] {
  return Array.from({ length: count }, (_, i) => activationRecord(ns, i % 2 === 0 ? 'a' : 'b', NOW - (count - i) * 1000, i % 5 === 4 ? 1 : 0, i));
}

const ids = (records: ActivationRecord[]) => records.map((r) => r.activationId);


/** The `ActivationStore` contract (packages/core/src/entities/activation-store.ts), declared for one engine. */
export function activationStoreContract(open: OpenActivationStore): void {
  describe('ActivationStore contract', () => {
    let store: ActivationStore;

    beforeEach(async () => {
      store = await open(WEEK);
    });
    afterEach(() => store.close());

    it('gets a record by namespace and id, whole (logs, result), and null for an unknown id', async () => {
      const record = activationRecord('guest', 'hello', NOW);
      await store.put(record);
      expect(await store.get('guest', record.activationId)).toEqual(record);
      expect(await store.get('guest', activationIdFor(NOW, 'other'))).toBeNull();
    });

    it('replaces a record written again under the same id', async () => {
      const record = activationRecord('guest', 'hello', NOW);
      await store.put(record);
      const finished = { ...record, response: activationResponse(2, { error: 'timed out' }), logs: ['late line'] };
      await store.put(finished);
      expect(await store.get('guest', record.activationId)).toEqual(finished);
      expect(await store.count('guest')).toBe(1);
      expect(await store.count('guest', { status: 0 })).toBe(0);
      expect(await store.count('guest', { status: 2, name: 'hello' })).toBe(1);
    });

    it('lists newest first, 30 by default, and pages with skip and limit without gaps or overlaps', async () => {
      const records = series('guest', 75);
      await store.putMany(records);
      const newestFirst = ids([...records].reverse());
      expect(ids(await store.list('guest'))).toEqual(newestFirst.slice(0, 30));
      const pages: string[] = [];
      for (let skip = 0; skip < 80; skip += 20) pages.push(...ids(await store.list('guest', { skip, limit: 20 })));
      expect(pages).toEqual(newestFirst);
      expect(await store.list('guest', { skip: 75 })).toEqual([]);
    });

    it('filters by name, status and time range, alone and together, and counts what the filters select', async () => {
      const records = series('guest', 40);
      await store.putMany(records);
      const expectSame = async (query: Parameters<ActivationStore['list']>[1], keep: (r: ActivationRecord) => boolean) => {
        const expected = ids(records.filter(keep).reverse());
        expect(ids(await store.list('guest', { ...query, limit: 100 }))).toEqual(expected);
        expect(await store.count('guest', query)).toBe(expected.length);
      };
      await expectSame({ name: 'a' }, (r) => r.name === 'a');
      await expectSame({ status: 1 }, (r) => r.response.statusCode === 1);
      await expectSame({ status: 0, name: 'b' }, (r) => r.response.statusCode === 0 && r.name === 'b');
      const since = records[10]!.start;
      const upto = records[29]!.start;
      await expectSame({ since, upto }, (r) => r.start >= since && r.start <= upto);
      await expectSame({ since, name: 'b', status: 1 }, (r) => r.start >= since && r.name === 'b' && r.response.statusCode === 1);
      await expectSame({ name: 'nobody' }, () => false);
      expect(await store.count('guest')).toBe(40);
      expect(ids(await store.list('guest', { name: 'a', skip: 5, limit: 3 }))).toEqual(ids(records.filter((r) => r.name === 'a').reverse()).slice(5, 8));
    });

    it('keeps namespaces apart: a record of one is never listed, counted or got through another', async () => {
      const mine = series('alice', 10);
      const theirs = series('bob', 7);
      await store.putMany([...mine, ...theirs]);
      expect(ids(await store.list('alice', { limit: 100 }))).toEqual(ids([...mine].reverse()));
      expect(await store.count('bob')).toBe(7);
      expect(await store.count('bob', { name: 'a' })).toBe(4);
      expect(await store.get('alice', theirs[0]!.activationId)).toBeNull();
      expect(await store.get('bob', theirs[0]!.activationId)).toEqual(theirs[0]);
      expect(await store.list('carol')).toEqual([]);
      expect(await store.count('carol')).toBe(0);
    });

    it('writes a group in one call', async () => {
      await store.putMany([]);
      const records = series('guest', 500);
      await store.putMany(records);
      expect(await store.count('guest')).toBe(500);
      expect(await store.get('guest', records[250]!.activationId)).toEqual(records[250]);
    });

    it('refuses a bad query with KND_VALIDATION naming the field', async () => {
      await expect(store.list('guest', { limit: 0 })).rejects.toMatchObject({ code: 'KND_VALIDATION', field: 'query.limit' });
      await expect(store.count('guest', { status: 7 as ActivationStatusCode })).rejects.toMatchObject({ code: 'KND_VALIDATION', field: 'query.status' });
    });
  });

  describe('ActivationStore retention', () => {
    let store: ActivationStore | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it('prunes records older than the max age (by an injected clock), keeps the rest, and reports when it is done', async () => {
      store = await open({ maxAgeMs: DAY });
      const old = [activationRecord('guest', 'a', NOW - 5 * DAY), activationRecord('guest', 'b', NOW - 4 * DAY, 1), activationRecord('other', 'a', NOW - 3 * DAY)];
      const recent = [activationRecord('guest', 'a', NOW - HOUR), activationRecord('other', 'b', NOW - 2 * HOUR)];
      await store.putMany([...old, ...recent]);
      await new ActivationPruner({ store, log: silentLogger(), clock: new FakeClock(NOW) }).runOnce();
      expect(ids(await store.list('guest'))).toEqual([recent[0]!.activationId]);
      expect(ids(await store.list('other'))).toEqual([recent[1]!.activationId]);
      expect(await store.get('guest', old[0]!.activationId)).toBeNull();
      expect(await store.count('guest')).toBe(1);
      expect(await store.count('guest', { status: 1 })).toBe(0);
      expect(await store.prune(NOW)).toMatchObject({ done: true });
    });

    it('keeps at most the newest max count per namespace when one is set', async () => {
      store = await open({ maxAgeMs: 7 * DAY, maxCountPerNamespace: 5 });
      const busy = series('busy', 12);
      const quiet = series('quiet', 3);
      await store.putMany([...busy, ...quiet]);
      await new ActivationPruner({ store, log: silentLogger(), clock: new FakeClock(NOW) }).runOnce();
      expect(ids(await store.list('busy'))).toEqual(ids(busy.slice(-5).reverse()));
      expect(await store.count('busy')).toBe(5);
      expect(await store.count('busy', { name: 'a' })).toBe(busy.slice(-5).filter((r) => r.name === 'a').length);
      expect(await store.count('quiet')).toBe(3);
    });
  });
}
