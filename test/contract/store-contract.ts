import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { entityKey, JsonBucket, namespaceKeyPrefix, type KvBucket, type KvChange } from '@kindling/core';
import { str, text, type BackendUnderTest, type OpenBackend } from './backend-under-test.js';
import { eventually } from '@kindling/test-support';

/** The `KeyValueStore` contract (packages/core/src/store.ts), declared for one backend. */
export function storeContract(open: OpenBackend): void {
  describe('KeyValueStore contract', () => {
    let backend: BackendUnderTest;
    let bucket: KvBucket;

    beforeEach(async () => {
      backend = await open();
      bucket = await backend.store.bucket('kindling_contract');
    });
    afterEach(() => backend.close());

    it('returns a growing revision for every write, and the latest value on get', async () => {
      const r1 = await bucket.put('a', text('1'));
      const r2 = await bucket.put('b', text('2'));
      const r3 = await bucket.put('a', text('3'));
      expect(r2).toBeGreaterThan(r1);
      expect(r3).toBeGreaterThan(r2);
      const entry = await bucket.get('a');
      expect({ key: entry?.key, value: str(entry?.value ?? null), revision: entry?.revision }).toEqual({ key: 'a', value: '3', revision: r3 });
      expect(await bucket.get('missing')).toBeNull();
    });

    it('writes with previousRevision only when the key is still at it, else KND_CONFLICT', async () => {
      const r1 = await bucket.put('k', text('v1'));
      const r2 = await bucket.put('k', text('v2'), { previousRevision: r1 });
      await expect(bucket.put('k', text('stale'), { previousRevision: r1 })).rejects.toMatchObject({ code: 'KND_CONFLICT' });
      expect(str((await bucket.get('k'))!.value)).toBe('v2');
      expect((await bucket.get('k'))!.revision).toBe(r2);
    });

    it('creates a key with previousRevision 0 only when it does not exist', async () => {
      const created = await bucket.put('lease', text('host-a'), { previousRevision: 0 });
      await expect(bucket.put('lease', text('host-b'), { previousRevision: 0 })).rejects.toMatchObject({ code: 'KND_CONFLICT' });
      await bucket.delete('lease', { previousRevision: created });
      await bucket.put('lease', text('host-b'), { previousRevision: 0 });
      expect(str((await bucket.get('lease'))!.value)).toBe('host-b');
    });

    it('deletes a key, refusing when the revision given is stale', async () => {
      const r1 = await bucket.put('gone', text('x'));
      await bucket.put('gone', text('y'));
      await expect(bucket.delete('gone', { previousRevision: r1 })).rejects.toMatchObject({ code: 'KND_CONFLICT' });
      await bucket.delete('gone');
      expect(await bucket.get('gone')).toBeNull();
      expect(await bucket.keys()).not.toContain('gone');
      const after = await bucket.put('gone', text('back'));
      expect(after).toBeGreaterThan(r1);
    });

    it('lists keys, all or under a prefix', async () => {
      await bucket.put(entityKey('ns1', 'a'), text('1'));
      await bucket.put(entityKey('ns1', 'b'), text('2'));
      await bucket.put(entityKey('ns2', 'a'), text('3'));
      await bucket.put(entityKey('ns10', 'a'), text('4'));
      await bucket.put(entityKey('ns1', 'deleted'), text('5'));
      await bucket.delete(entityKey('ns1', 'deleted'));
      expect((await bucket.keys(namespaceKeyPrefix('ns1'))).sort()).toEqual(['ns1.a', 'ns1.b']);
      expect((await bucket.keys('ns1')).sort()).toEqual(['ns1.a', 'ns1.b', 'ns10.a']);
      expect((await bucket.keys()).sort()).toEqual(['ns1.a', 'ns1.b', 'ns10.a', 'ns2.a']);
    });

    it('keys entities whose names have dots, spaces and wildcard characters apart', async () => {
      const names = ['a.b', 'x y', 'a>b', 'a*', 'a'];
      for (const name of names) await bucket.put(entityKey('guest', name), text(name));
      for (const name of names) expect(str((await bucket.get(entityKey('guest', name)))!.value)).toBe(name);
      expect((await bucket.keys(namespaceKeyPrefix('guest'))).length).toBe(names.length);
    });

    it('refuses a key that is not dot-separated tokens', async () => {
      for (const key of ['x y', 'a..b', '.a', 'a.', 'a>b', 'a*', '']) {
        await expect(bucket.put(key, text('x'))).rejects.toMatchObject({ code: 'KND_VALIDATION', field: 'key' });
      }
    });

    it('refuses a value over 1 MiB as too large, and keeps the old one', async () => {
      await bucket.put('big', text('small'));
      await expect(bucket.put('big', new Uint8Array(2 * 1024 * 1024))).rejects.toMatchObject({ code: 'KND_PAYLOAD_TOO_LARGE' });
      expect(str((await bucket.get('big'))!.value)).toBe('small');
    });

    it('keeps buckets apart', async () => {
      const other = await backend.store.bucket('kindling_contract_other');
      await bucket.put('k', text('here'));
      expect(await other.get('k')).toBeNull();
      expect(await other.keys()).toEqual([]);
    });

    it('absorbs concurrent read-modify-write updates through compare-and-set retries', async () => {
      const counter = new JsonBucket<number>(bucket);
      await Promise.all(Array.from({ length: 8 }, () => counter.update('count', (n) => (n ?? 0) + 1, 50)));
      expect((await counter.get('count'))!.value).toBe(8);
    });

    it('watches: current values, then initialized, then puts and deletes as they happen', async () => {
      await bucket.put('ns1.a', text('a1'));
      await bucket.put('ns2.z', text('z1'));
      await bucket.put('ns1.b', text('b1'));
      await bucket.put('ns1.gone', text('x'));
      await bucket.delete('ns1.gone');

      const watch = await bucket.watch({ prefix: 'ns1.' });
      const seen: Array<KvChange | 'initialized'> = [];
      const loop = (async () => {
        for await (const change of watch) seen.push(change);
      })();
      await eventually(() => seen.includes('initialized'), 'initialized');
      const initial = seen.slice(0, seen.indexOf('initialized')) as KvChange[];
      expect(initial.map((c) => [c.key, str(c.value)]).sort()).toEqual([
        ['ns1.a', 'a1'],
        ['ns1.b', 'b1'],
      ]);

      const r = await bucket.put('ns1.c', text('c1'));
      await bucket.put('ns2.y', text('elsewhere'));
      await bucket.put('ns1.a', text('a2'));
      await bucket.delete('ns1.b');
      await eventually(() => seen.length >= initial.length + 4, 'three changes after initialized');
      const later = seen.slice(initial.length + 1) as KvChange[];
      expect(later.map((c) => [c.key, str(c.value)])).toEqual([
        ['ns1.c', 'c1'],
        ['ns1.a', 'a2'],
        ['ns1.b', null],
      ]);
      expect(later[0]!.revision).toBe(r);
      expect(later[2]!.revision).toBeGreaterThan(later[1]!.revision);

      watch.stop();
      await loop; // stop() ends the iteration
    });

    it('watches a prefix that is not a whole token, and the whole bucket', async () => {
      await bucket.put('ns1.a', text('1'));
      await bucket.put('ns10.a', text('2'));
      await bucket.put('ns2.a', text('3'));
      for (const [prefix, expected] of [
        ['ns1', ['ns1.a', 'ns10.a']],
        [undefined, ['ns1.a', 'ns10.a', 'ns2.a']],
      ] as const) {
        const watch = await bucket.watch(prefix === undefined ? {} : { prefix });
        const keys: string[] = [];
        for await (const change of watch) {
          if (change === 'initialized') break;
          keys.push(change.key);
        }
        expect(keys.sort()).toEqual(expected);
      }
    });

    it('watches an empty bucket: initialized at once, then the first put', async () => {
      const empty = await backend.store.bucket('kindling_contract_empty');
      const watch = await empty.watch();
      const iterator = watch[Symbol.asyncIterator]();
      expect((await iterator.next()).value).toBe('initialized');
      await empty.put('first', text('1'));
      const next = (await iterator.next()).value as KvChange;
      expect([next.key, str(next.value)]).toEqual(['first', '1']);
      watch.stop();
    });
  });
}
