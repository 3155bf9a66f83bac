import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomId, silentLogger } from '@kindling/sdk';
import { cursorValue, ProviderRegistry, type FeedRepository, eventually, type FeedHarness } from '@kindling/provider-testkit';
import { MongoClient, type Db } from 'mongodb';
import { parseToken, serializeToken, type MongoChange, type MongoCursor } from './change-event.js';
import { GAP_EVENT_TYPE } from './mongo-change-feed.js';
import { mongoProvider } from './mongo-provider.js';
import { openMongoHarness } from './testing/mongo-fixtures.js';

/**
 * The scenarios of mongo-feed.test.ts against a REAL replica set, with the official driver. They
 * run whenever MONGODB_URL points at one (docker/mongodb/compose.yaml starts a one-node replica
 * set: MONGODB_URL='mongodb://127.0.0.1:27017/?directConnection=true'). They are skipped
 * otherwise, also under CI: no MongoDB server can run on the machines this project is built on,
 * so there the provider's logic is tested against the test double only.
 */
const MONGODB_URL = process.env.MONGODB_URL;
if (!MONGODB_URL) {
  console.warn(
    '\n\n*** SKIPPING the MongoDB real-server suite: MONGODB_URL is not set. It needs a replica set ' +
      '(docker compose -f docker/mongodb/compose.yaml up -d). This suite is skipped under CI too: no MongoDB can run there. ***\n',
  );
}
const describeMongo = MONGODB_URL ? describe : describe.skip;

/** Whether the server lets tests inject errors (mongod --setParameter enableTestCommands=1, as the compose file does). */
async function failPointsAvailable(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    return true;
  } catch {
    return false;
  } finally {
    await client.close();
  }
}
const withFailPoints = MONGODB_URL ? await failPointsAvailable(MONGODB_URL) : false;
if (MONGODB_URL && !withFailPoints) console.warn('*** SKIPPING the resumable-error case: the server does not accept failCommand fail points ***');

/**
 * A resume token whose cluster time lies long before the oplog's first entry: a token's `_data`
 * starts with the KeyString type byte 0x82 and the 8-byte timestamp (seconds, increment), so
 * replacing the seconds makes a resume point the server no longer has.
 */
function ancientToken(token: Record<string, unknown>): Record<string, unknown> {
  const data = String(token._data);
  return { _data: `${data.slice(0, 2)}00000001${data.slice(10)}` };
}

describeMongo('mongodb/changes feed (against a real replica set)', () => {
  const url = MONGODB_URL ?? '';
  const registry = new ProviderRegistry([mongoProvider]);
  let client: MongoClient;
  let db: Db;
  let harness: FeedHarness;
  let repo: FeedRepository;

  beforeAll(async () => {
    client = new MongoClient(url);
    await client.connect();
    db = client.db(`kindling_test_${randomId(4)}`);
    await db.createCollection('orders');
  });

  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  beforeEach(async () => {
    harness = await openMongoHarness(mongoProvider);
    repo = harness.repo;
  });

  afterEach(async () => {
    await harness.close();
  });

  const createFeed = (params: Record<string, unknown>, trigger: string) => harness.putFeed({ uri: url, database: db.databaseName, collection: 'orders', ...params }, { trigger });
  const host = (id = 'h1') => harness.startHost({ hostId: id });
  /** The feed has opened its stream once it has stored a (post-batch) resume token. */
  const streaming = (feedId: string) => eventually(async () => (await repo.cursors.get(feedId)) !== null, 'stream open');

  it('fires inserts, updates and deletes with ids derived from their resume tokens', async () => {
    const feed = await createFeed({ fullDocument: 'updateLookup' }, 'basic');
    await host();
    await streaming(feed.id);
    const { events, consumption } = await harness.collectEvents<MongoChange>({ trigger: 'basic' });
    const { insertedId } = await db.collection('orders').insertOne({ sku: 'lamp', total: 12.5 });
    await db.collection('orders').updateOne({ _id: insertedId }, { $set: { total: 10 } });
    await db.collection('orders').deleteOne({ _id: insertedId });
    await eventually(() => events.length >= 3, '3 events');
    await consumption.stop();
    expect(events.map((e) => e.data.operationType)).toEqual(['insert', 'update', 'delete']);
    expect(events[0]?.data).toMatchObject({ ns: { db: db.databaseName, coll: 'orders' }, fullDocument: { _id: { $oid: insertedId.toHexString() }, sku: 'lamp', total: 12.5 } });
    expect(events[1]?.data).toMatchObject({ updateDescription: { updatedFields: { total: 10 } }, fullDocument: { total: 10 } });
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  it('resumes after a restart: changes made meanwhile fire once, in order', async () => {
    const feed = await createFeed({}, 'restart');
    const first = await host('h1');
    await streaming(feed.id);
    const { events, consumption } = await harness.collectEvents<MongoChange>({ trigger: 'restart' });
    await db.collection('orders').insertOne({ n: 1 });
    await eventually(() => events.length === 1, 'first event');
    await harness.stopHost(first);
    for (let n = 2; n <= 6; n++) await db.collection('orders').insertOne({ n });
    await host('h2');
    await eventually(() => events.length >= 6, '6 events');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumption.stop();
    expect(events.map((e) => (e.data.fullDocument as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  (withFailPoints ? it : it.skip)('rides out resumable errors without losing or repeating a change', async () => {
    const feed = await createFeed({}, 'resumable');
    await host();
    await streaming(feed.id);
    const { events, consumption } = await harness.collectEvents<MongoChange>({ trigger: 'resumable' });
    await db.collection('orders').insertOne({ n: 1 });
    await eventually(() => events.length === 1, 'first event');
    await client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 4 },
      data: { failCommands: ['getMore', 'aggregate'], errorCode: 91, errorLabels: ['ResumableChangeStreamError'] },
    });
    for (let n = 2; n <= 4; n++) await db.collection('orders').insertOne({ n });
    await eventually(() => events.length >= 4, '4 events', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await consumption.stop();
    await client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    expect(events.map((e) => (e.data.fullDocument as { n: number }).n)).toEqual([1, 2, 3, 4]);
  });

  it('disables the feed when its collection is dropped, saying so', async () => {
    await db.createCollection('doomed');
    const feed = await createFeed({ collection: 'doomed' }, 'doomed');
    await host();
    await streaming(feed.id);
    await db.collection('doomed').drop();
    const disabled = await harness.waitForStatus(feed.id, 'disabled');
    expect(disabled.reason).toBe(`the change stream was invalidated: collection ${db.databaseName}.doomed was dropped`);
  });

  it('on a lost resume point disables the feed by default, and with onHistoryLost=restart fires a gap event and goes on', async () => {
    const strict = await createFeed({}, 'lost-strict');
    const lenient = await createFeed({ onHistoryLost: 'restart' }, 'lost-lenient');
    const first = await host('h1');
    await streaming(strict.id);
    await streaming(lenient.id);
    await harness.stopHost(first);
    for (const feed of [strict, lenient]) {
      const stored = cursorValue((await repo.cursors.get(feed.id))?.value) as MongoCursor;
      await repo.cursors.put(feed.id, { token: serializeToken(ancientToken(parseToken(stored.token))), time: '2020-01-01T00:00:00.000Z' });
    }
    const { events, consumption } = await harness.collectEvents<MongoChange>({ trigger: 'lost-lenient' });
    await host('h2');
    expect((await harness.waitForStatus(strict.id, 'disabled')).reason).toMatch(/resume point is no longer in the oplog/);
    await eventually(() => events.length === 1, 'gap event');
    await db.collection('orders').insertOne({ after: 'gap' });
    await eventually(() => events.length === 2, 'event after the gap');
    await consumption.stop();
    expect(events[0]).toMatchObject({ type: GAP_EVENT_TYPE, data: { operationType: 'gap', skippedAfter: '2020-01-01T00:00:00.000Z' } });
    expect(events[1]?.data.fullDocument).toMatchObject({ after: 'gap' });
  });

  it('accepts a replica set at CREATE and refuses a server it cannot reach', async () => {
    const validate = (params: Record<string, unknown>) =>
      registry.validateParams('mongodb', 'changes', { uri: url, database: db.databaseName, ...params }, { log: silentLogger(), signal: new AbortController().signal });
    await expect(validate({})).resolves.toMatchObject({ database: db.databaseName });
    await expect(validate({ uri: 'mongodb://app:Sekr1t-pw@127.0.0.1:1/?directConnection=true' })).rejects.toMatchObject({ field: 'uri' });
  }, 30_000);
});
