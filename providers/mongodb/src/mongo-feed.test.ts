import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { silentLogger } from '@kindling/sdk';
import { cursorValue, type FeedRecord, type FeedRepository, type ProviderRegistry, eventually, type FeedHarness } from '@kindling/provider-testkit';
import { eventIdOf, type MongoChange, type MongoCursor } from './change-event.js';
import { GAP_EVENT_TYPE } from './mongo-change-feed.js';
import { createMongoProvider } from './mongo-provider.js';
import { FakeReplicaSet, mongoErrors } from './testing/fake-replica-set.js';
import { openMongoHarness } from './testing/mongo-fixtures.js';

// The provider's logic, through the real FeedHost on the embedded backend, against a TEST DOUBLE
// of MongoDB's change streams (src/testing/fake-replica-set.ts): no MongoDB server can run on the
// machines this project is built on. The same scenarios run against a real replica set in
// mongo-feed.integration.test.ts whenever MONGODB_URL is set.
const URI = 'mongodb://app:Tr0ub4dor-3@127.0.0.1:27017/?replicaSet=rs0';

describe('mongodb/changes feed (against a test double of the driver)', () => {
  let rs: FakeReplicaSet;
  let registry: ProviderRegistry;
  let harness: FeedHarness;
  let repo: FeedRepository;
  let logLines: string[];

  beforeEach(async () => {
    rs = new FakeReplicaSet();
    harness = await openMongoHarness(createMongoProvider({ connect: rs.connect, resume: { maxAttempts: 5, backoff: { initialMs: 10, maxMs: 50 } } }));
    ({ registry, repo, logLines } = harness);
  });

  afterEach(async () => {
    await harness.close();
  });

  const createFeed = (params: Record<string, unknown>, trigger = 'changes') => harness.putFeed({ uri: URI, database: 'shop', collection: 'orders', ...params }, { trigger });
  const host = (id = 'h1') => harness.startHost({ hostId: id });
  const storedCursor = async (feed: FeedRecord) => cursorValue((await repo.cursors.get(feed.id))?.value) as MongoCursor | undefined;
  const streaming = (count: number) => eventually(() => rs.watches.length >= count, `${count} watch(es)`);

  it('fires the changes asked for, with ids derived from their resume tokens and the change as relaxed Extended JSON', async () => {
    const feed = await createFeed({ operationTypes: 'insert,update' });
    await host();
    await streaming(1);
    const { events, consumption } = await harness.collectEvents<MongoChange>({ trigger: 'changes' });
    const id = rs.insert('shop', 'orders', { total: 12.5, sku: 'lamp' });
    rs.insert('shop', 'customers', { name: 'not watched' });
    rs.update('shop', 'orders', id, { total: 10 });
    rs.delete('shop', 'orders', id);
    rs.insert('shop', 'orders', { total: 3 });
    await eventually(() => events.length >= 3, '3 events');
    await consumption.stop();

    expect(events.map((e) => e.data.operationType)).toEqual(['insert', 'update', 'insert']);
    expect(events[0]).toMatchObject({
      id: eventIdOf(rs.tokenOf(1)),
      type: 'dev.kindling.mongodb.changes',
      subject: 'shop.orders',
      data: { operationType: 'insert', ns: { db: 'shop', coll: 'orders' }, documentKey: { _id: id }, fullDocument: { _id: id, total: 12.5, sku: 'lamp' } },
    });
    expect(events[0]?.data).not.toHaveProperty('_id');
    expect(events[1]?.data).toMatchObject({ updateDescription: { updatedFields: { total: 10 } } });
    expect(events[1]?.id).toBe(eventIdOf(rs.tokenOf(3)));
    // The feed asked the server for the operations it fires plus the ones that end a stream.
    expect(rs.watches[0]?.pipeline[0]).toEqual({ $match: { operationType: { $in: ['insert', 'update', 'invalidate', 'drop', 'rename', 'dropDatabase'] } } });
    expect(rs.watches[0]?.scope).toEqual({ database: 'shop', collection: 'orders' });
    await eventually(async () => (await storedCursor(feed))?.token.includes(rs.tokenOf(5)._data as string), 'token of the last change stored');
  });

  it('watches a whole database or the whole deployment when no collection (or database) is named', async () => {
    await createFeed({ collection: undefined }, 'shop-db');
    await createFeed({ database: undefined, collection: undefined }, 'all');
    await host();
    await eventually(() => rs.watches.length >= 2, 'two streams');
    expect(rs.watches.map((w) => w.scope)).toEqual(expect.arrayContaining([{ database: 'shop' }, {}]));
    const shop = await harness.collectEvents<MongoChange>({ trigger: 'shop-db' });
    const all = await harness.collectEvents<MongoChange>({ trigger: 'all' });
    rs.insert('shop', 'orders', { n: 1 });
    rs.insert('shop', 'customers', { n: 2 });
    rs.insert('billing', 'invoices', { n: 3 });
    await eventually(() => shop.events.length >= 2 && all.events.length >= 3, 'events of both feeds');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await shop.consumption.stop();
    await all.consumption.stop();
    expect(shop.events.map((e) => e.subject)).toEqual(['shop.orders', 'shop.customers']);
    expect(all.events.map((e) => e.subject)).toEqual(['shop.orders', 'shop.customers', 'billing.invoices']);
  });

  it('resumes after a restart with startAfter the last durable token: changes made meanwhile fire once, in order', async () => {
    const feed = await createFeed({});
    const first = await host('h1');
    await streaming(1);
    const { events, consumption } = await harness.collectEvents<MongoChange>({ trigger: 'changes' });
    rs.insert('shop', 'orders', { n: 1 });
    await eventually(() => events.length === 1, 'first event');
    await harness.stopHost(first);
    expect((await storedCursor(feed))?.token).toContain(rs.tokenOf(1)._data as string);

    for (let n = 2; n <= 6; n++) rs.insert('shop', 'orders', { n });
    await host('h2');
    await eventually(() => events.length >= 6, '6 events');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await consumption.stop();
    expect(events.map((e) => (e.data.fullDocument as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rs.watches[1]?.startAfter).toEqual(rs.tokenOf(1));
  });

  it('rides out resumable errors by reopening from the last durable token, losing and repeating nothing', async () => {
    const feed = await createFeed({});
    await host();
    await streaming(1);
    const { events, consumption } = await harness.collectEvents<MongoChange>({ trigger: 'changes' });
    rs.insert('shop', 'orders', { n: 1 });
    await eventually(() => events.length === 1, 'first event');
    rs.failReads(mongoErrors.network(), mongoErrors.network());
    await streaming(3);
    rs.insert('shop', 'orders', { n: 2 });
    rs.insert('shop', 'orders', { n: 3 });
    await eventually(() => events.length >= 3, '3 events');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await consumption.stop();
    expect(events.map((e) => (e.data.fullDocument as { n: number }).n)).toEqual([1, 2, 3]);
    expect(rs.watches.length).toBeGreaterThanOrEqual(3);
    expect(rs.watches.at(-1)?.startAfter).toEqual(rs.tokenOf(1));
    await harness.waitForStatus(feed.id, 'active');
  });

  it('reports a failure to the host when resumable errors go on, and comes back when they stop', async () => {
    const feed = await createFeed({});
    await host();
    await streaming(1);
    rs.failReads(...Array.from({ length: 6 }, () => mongoErrors.network()));
    const failing = await harness.waitForStatus(feed.id, 'failing', 20_000);
    expect(failing.reason).toMatch(/127\.0\.0\.1:27017 closed/);
    await harness.waitForStatus(feed.id, 'active', 20_000);
    expect((await harness.statusOf(feed.id))?.failures).toBe(1);
  });

  it('disables the feed when the stream is invalidated, saying why, and starts after the invalidate once re-enabled', async () => {
    const feed = await createFeed({ operationTypes: 'insert,drop' });
    await host();
    await streaming(1);
    const { events, consumption } = await harness.collectEvents<MongoChange>({ trigger: 'changes' });
    rs.insert('shop', 'orders', { n: 1 });
    rs.dropCollection('shop', 'orders');
    const disabled = await harness.waitForStatus(feed.id, 'disabled');
    expect(disabled.reason).toBe('the change stream was invalidated: collection shop.orders was dropped');
    await eventually(() => events.length >= 2, 'insert and drop events');
    expect(events.map((e) => e.data.operationType)).toEqual(['insert', 'drop']);
    expect((await storedCursor(feed))?.token).toContain(rs.tokenOf(3)._data as string);

    rs.insert('shop', 'orders', { n: 2 });
    await repo.feeds.put(feed.id, { ...feed, generation: 2 });
    await eventually(() => events.length >= 3, 'event from the recreated collection');
    await consumption.stop();
    expect(rs.watches.at(-1)?.startAfter).toEqual(rs.tokenOf(3));
    expect(events[2]?.data.fullDocument).toMatchObject({ n: 2 });
  });

  it('says why a rename invalidated the stream', async () => {
    const feed = await createFeed({});
    await host();
    await streaming(1);
    rs.renameCollection('shop', 'orders', 'orders_2025');
    expect((await harness.waitForStatus(feed.id, 'disabled')).reason).toBe('the change stream was invalidated: collection shop.orders was renamed to shop.orders_2025');
  });

  it('by default disables a feed whose resume point fell off the oplog, and tells the user the way out', async () => {
    const feed = await createFeed({});
    const first = await host('h1');
    await streaming(1);
    rs.insert('shop', 'orders', { n: 1 });
    await eventually(async () => (await storedCursor(feed))?.token.includes(rs.tokenOf(1)._data as string), 'token stored');
    await harness.stopHost(first);
    rs.insert('shop', 'orders', { n: 2 });
    rs.loseHistory();
    await host('h2');
    const disabled = await harness.waitForStatus(feed.id, 'disabled');
    expect(disabled.reason).toMatch(/resume point is no longer in the oplog \(the last change fired happened at .*\).*onHistoryLost=restart/);
  });

  it('with onHistoryLost=restart fires a gap event saying what was skipped, then follows from now', async () => {
    const feed = await createFeed({ onHistoryLost: 'restart' });
    const first = await host('h1');
    await streaming(1);
    const { events, consumption } = await harness.collectEvents<MongoChange>({ trigger: 'changes' });
    rs.insert('shop', 'orders', { n: 1 });
    await eventually(() => events.length === 1, 'first event');
    const lastFired = (await eventually(() => storedCursor(feed), 'cursor'))?.time;
    await harness.stopHost(first);
    rs.insert('shop', 'orders', { n: 2 });
    rs.loseHistory();
    await host('h2');
    await eventually(() => events.length === 2, 'gap event');
    rs.insert('shop', 'orders', { n: 3 });
    await eventually(() => events.length === 3, 'event after the gap');
    await consumption.stop();
    expect(events[1]).toMatchObject({ type: GAP_EVENT_TYPE, data: { operationType: 'gap', skippedAfter: lastFired, resumedAt: expect.any(String) } });
    expect(events[2]?.data.fullDocument).toMatchObject({ n: 3 });
    expect((await harness.statusOf(feed.id))?.status).toBe('active');
  });

  it('disables a feed the server refuses to let watch, without the connection string in the reason or the logs', async () => {
    const feed = await createFeed({});
    rs.failReads(mongoErrors.unauthorized(URI));
    await host();
    const disabled = await harness.waitForStatus(feed.id, 'disabled');
    expect(disabled.reason).toMatch(/^the user may not watch this namespace: not authorized on shop/);
    expect(disabled.reason).not.toContain('Tr0ub4dor-3');
    expect(logLines.join('')).not.toContain('Tr0ub4dor-3');
  });

  it('refuses at CREATE a server it cannot reach, a standalone server, and pre-images that are not recorded, naming the field', async () => {
    const validate = (params: Record<string, unknown>) =>
      registry.validateParams('mongodb', 'changes', { uri: URI, database: 'shop', collection: 'orders', ...params }, { log: silentLogger(), signal: new AbortController().signal });
    rs.connectError = Object.assign(new Error(`Server selection timed out after 10000 ms connecting to ${URI}`), { name: 'MongoServerSelectionError' });
    const unreachable = validate({});
    await expect(unreachable).rejects.toMatchObject({ code: 'KND_BAD_FEED_PARAMS', field: 'uri' });
    await expect(unreachable.catch((error: Error) => error.message)).resolves.toBe("'uri': cannot connect to MongoDB: Server selection timed out after 10000 ms connecting to [redacted]");
    rs.connectError = undefined;

    rs.topologyKind = 'standalone';
    await expect(validate({})).rejects.toThrow(/'uri': this server is a standalone mongod.*--replSet/);
    rs.topologyKind = 'replicaSet';

    rs.preImages = false;
    await expect(validate({ fullDocumentBeforeChange: 'required' })).rejects.toMatchObject({
      field: 'fullDocumentBeforeChange',
      message: expect.stringContaining('changeStreamPreAndPostImages: { enabled: true }'),
    });
    await expect(validate({ fullDocumentBeforeChange: 'whenAvailable' })).resolves.toMatchObject({ fullDocumentBeforeChange: 'whenAvailable' });
  });
});
