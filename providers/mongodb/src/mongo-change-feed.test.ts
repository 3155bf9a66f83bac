import { describe, expect, it } from '@jest/globals';
import { parseWith, silentLogger, systemClock, type FireOptions } from '@kindling/sdk';
import { parseToken, type MongoCursor } from './change-event.js';
import { MongoChangeFeed } from './mongo-change-feed.js';
import { mongoChangesParams } from './params.js';
import { FakeReplicaSet } from './testing/fake-replica-set.js';
import { eventually } from '@kindling/provider-testkit';

// When the resume token moves, against a TEST DOUBLE of MongoDB's change streams (no MongoDB
// server can run here), with a fire the test resolves when it chooses.
describe('MongoChangeFeed', () => {
  const setup = async () => {
    const rs = new FakeReplicaSet();
    const source = await rs.connect('mongodb://127.0.0.1', { database: 'shop', collection: 'orders' });
    const fires: Array<{ id: string; resolve(): void; reject(error: Error): void }> = [];
    const failures: Error[] = [];
    let cursor: MongoCursor | undefined;
    const feed = await MongoChangeFeed.start({
      params: parseWith(mongoChangesParams, { uri: 'mongodb://127.0.0.1', database: 'shop', collection: 'orders' }),
      source,
      checkpointIntervalMs: 1,
      ctx: {
        fire: (_data: unknown, options?: FireOptions) =>
          new Promise((resolve, reject) => fires.push({ id: options?.id ?? '', resolve: () => resolve({ event: {} as never, duplicate: false }), reject })),
        cursor: { get: async <T>() => cursor as T | undefined, set: async <T>(value: T) => void (cursor = value as MongoCursor) },
        log: silentLogger(),
        fail: (error: unknown) => failures.push(error as Error),
        degraded: () => undefined,
        healthy: () => undefined,
        clock: systemClock,
        signal: new AbortController().signal,
      },
    });
    await eventually(() => rs.watches.length === 1, 'watching');
    const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
    return { rs, feed, fires, failures, cursor: () => cursor, settle };
  };

  it('stores a change resume token only once its event is durable, one change at a time', async () => {
    const t = await setup();
    t.rs.insert('shop', 'orders', { n: 1 });
    t.rs.insert('shop', 'orders', { n: 2 });
    await eventually(() => t.fires.length === 1, 'first fire');
    await t.settle();
    expect(t.fires).toHaveLength(1);
    expect(t.cursor() && parseToken(t.cursor()!.token)).not.toEqual(t.rs.tokenOf(1));

    t.fires[0]?.resolve();
    await eventually(() => t.fires.length === 2, 'second fire');
    await eventually(() => t.cursor()?.token.includes(t.rs.tokenOf(1)._data as string), 'token 1 stored');
    t.fires[1]?.resolve();
    await eventually(() => t.cursor()?.token.includes(t.rs.tokenOf(2)._data as string), 'token 2 stored');
    await t.feed.stop();
  });

  it('keeps the token of the last durable change when a fire fails, and reports the failure as retryable', async () => {
    const t = await setup();
    t.rs.insert('shop', 'orders', { n: 1 });
    t.rs.insert('shop', 'orders', { n: 2 });
    await eventually(() => t.fires.length === 1, 'first fire');
    t.fires[0]?.resolve();
    await eventually(() => t.fires.length === 2, 'second fire');
    t.fires[1]?.reject(new Error('bus unavailable'));
    await eventually(() => t.failures.length === 1, 'failure reported');
    expect(t.failures[0]).toMatchObject({ message: 'bus unavailable', retryable: true });
    await t.feed.stop();
    expect(parseToken(t.cursor()!.token)).toEqual(t.rs.tokenOf(1));
  });

  it('moves its token past oplog entries of no interest while idle (the post-batch token)', async () => {
    const t = await setup();
    t.rs.insert('shop', 'customers', { name: 'elsewhere' });
    t.rs.insert('shop', 'customers', { name: 'elsewhere' });
    await eventually(() => t.cursor()?.token.includes(t.rs.tokenOf(2)._data as string), 'post-batch token stored');
    expect(t.fires).toHaveLength(0);
    await t.feed.stop();
  });
});
