import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { connect, headers, nanos, StorageType, type JetStreamManager, type NatsConnection } from 'nats';
import { describeWithNats, NATS_URL } from '@kindling/test-support';
import { JetStreamApiError, JetStreamPublisher } from './jet-stream-publisher.js';

const describeNats = await describeWithNats();
const run = `jsp-${process.pid}-${Date.now().toString(36)}`;
const stream = `${run}_STREAM`;
const data = new TextEncoder().encode('hello');
/** Long enough that a rejection seen in a test cannot be the sweep's, unless the test asks for one. */
const NEVER_MS = 600_000;

describeNats('JetStreamPublisher', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
    jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`${run}.stored.>`], storage: StorageType.Memory, duplicate_window: nanos(60_000) });
  });

  afterAll(async () => {
    await jsm.streams.delete(stream);
    await nc.close();
  });

  it('resolves each publish with its stream and sequence, and marks a repeated Nats-Msg-Id a duplicate', async () => {
    const publisher = new JetStreamPublisher(nc, NEVER_MS);
    try {
      const withId = () => {
        const h = headers();
        h.set('Nats-Msg-Id', 'same');
        return h;
      };
      const acks = await Promise.all([publisher.publish(`${run}.stored.a`, data), publisher.publish(`${run}.stored.b`, data, withId())]);
      expect(acks.map((ack) => ack.stream)).toEqual([stream, stream]);
      expect(acks[1]!.seq).toBe(acks[0]!.seq + 1);
      expect(acks.map((ack) => ack.duplicate)).toEqual([false, false]);
      expect(await publisher.publish(`${run}.stored.b`, data, withId())).toEqual({ stream, seq: acks[1]!.seq, duplicate: true });
    } finally {
      publisher.close();
    }
  });

  it('rejects with the server error when an expectation fails (wrong last subject sequence)', async () => {
    const publisher = new JetStreamPublisher(nc, NEVER_MS);
    try {
      const h = headers();
      h.set('Nats-Expected-Last-Subject-Sequence', '999999');
      const error = await publisher.publish(`${run}.stored.cas`, data, h).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JetStreamApiError);
      expect((error as JetStreamApiError).api_error.err_code).toBe(10071);
    } finally {
      publisher.close();
    }
  });

  it('rejects a publish to a subject no stream holds at once (no responders), naming the subject', async () => {
    const publisher = new JetStreamPublisher(nc, NEVER_MS);
    try {
      await expect(publisher.publish(`${run}.nowhere`, data)).rejects.toThrow(`no JetStream stream holds ${run}.nowhere`);
    } finally {
      publisher.close();
    }
  });

  it('rejects a publish whose ack never comes, after the timeout', async () => {
    const silent = nc.subscribe(`${run}.silent`); // a responder that never answers
    const publisher = new JetStreamPublisher(nc, 100);
    try {
      await expect(publisher.publish(`${run}.silent`, data)).rejects.toThrow(`no JetStream ack within 100 ms for ${run}.silent`);
    } finally {
      publisher.close();
      silent.unsubscribe();
    }
  });

  it('rejects the publishes still waiting when the connection closes, and refuses new ones', async () => {
    const own = await connect({ servers: NATS_URL });
    const silent = own.subscribe(`${run}.closing`);
    await own.flush();
    const publisher = new JetStreamPublisher(own, NEVER_MS);
    const waiting = publisher.publish(`${run}.closing`, data);
    const outcome = waiting.catch((e: unknown) => e);
    await own.flush();
    silent.unsubscribe();
    await own.close();
    expect(String(await outcome)).toMatch(/the NATS connection closed before the JetStream ack for .*\.closing arrived/);
    await expect(publisher.publish(`${run}.closing`, data)).rejects.toThrow('the NATS connection closed');
  });

  it('rejects the publishes still waiting when it is closed', async () => {
    const silent = nc.subscribe(`${run}.closed`);
    await nc.flush();
    const publisher = new JetStreamPublisher(nc, NEVER_MS);
    const waiting = publisher.publish(`${run}.closed`, data);
    publisher.close();
    silent.unsubscribe();
    await expect(waiting).rejects.toThrow('the JetStream publisher is closed');
  });
});
