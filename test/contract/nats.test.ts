import { afterAll, expect, it } from '@jest/globals';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'nats';
import { silentLogger, Subjects } from '@kindling/core';
import { connectNatsBackend } from '@kindling/nats';
import { describeWithNats, NATS_URL } from '@kindling/test-support';
import { busContract } from './bus-contract.js';
import { storeContract } from './store-contract.js';
import { text, type OpenBackend } from './backend-under-test.js';

/** Every test gets a scope of its own on the shared server, deleted when it closes. */
const run = `ct-${process.pid}-${Date.now().toString(36)}`;
let tests = 0;
const openScoped: OpenBackend = async () => {
  const backend = await connectNatsBackend({ servers: NATS_URL, scope: `${run}-${++tests}`, log: silentLogger() });
  return {
    ...backend,
    close: async () => {
      await backend.destroyScope();
      await backend.close();
    },
  };
};

const describeNats = await describeWithNats();

describeNats('NATS JetStream backend', () => {
  busContract(openScoped);
  storeContract(openScoped);

  it('keeps scopes apart: subjects, streams and buckets of one scope are not seen by another', async () => {
    const [a, b] = [await openScoped(), await openScoped()];
    try {
      await a.bus.publish(Subjects.event('guest', 't'), text('in a'));
      await (await a.store.bucket('kindling_actions')).put('guest.x', text('a'));
      expect((await b.streamInfo('KINDLING_EVENTS')).messages).toBe(0);
      expect(await (await b.store.bucket('kindling_actions')).get('guest.x')).toBeNull();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses at once (no waiting for an ack timeout) a publish or key-value write that no stream takes', async () => {
    // Acks may take "forever" here: only the server's no-responders answer can end these calls.
    const backend = await connectNatsBackend({ servers: NATS_URL, scope: `${run}-${++tests}`, log: silentLogger(), publishAckTimeoutMs: 600_000 });
    try {
      const bucket = await backend.store.bucket('kindling_actions');
      await backend.destroyScope(); // the streams and buckets are gone; the subjects are valid still
      const subject = Subjects.event('guest', 'gone');
      const published = backend.bus.publish(subject, text('lost'));
      await expect(published).rejects.toMatchObject({ code: 'KND_BUS_UNAVAILABLE' });
      await expect(published).rejects.toThrow(subject);
      await expect(bucket.put('guest.x', text('lost'))).rejects.toMatchObject({ code: 'KND_STORE_UNAVAILABLE' });
      await expect(bucket.delete('guest.x')).rejects.toMatchObject({ code: 'KND_STORE_UNAVAILABLE' });
    } finally {
      await backend.close();
    }
  });

  it('refuses publishes once closed, as KND_BUS_UNAVAILABLE', async () => {
    const backend = await openScoped();
    const bucket = await backend.store.bucket('kindling_actions');
    await backend.close();
    await expect(backend.bus.publish(Subjects.event('guest', 't'), text('late'))).rejects.toMatchObject({ code: 'KND_BUS_UNAVAILABLE' });
    await expect(bucket.put('guest.x', text('late'))).rejects.toMatchObject({ code: 'KND_STORE_UNAVAILABLE' });
  });

  it('reports an unreachable server as KND_BUS_UNAVAILABLE', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    await expect(connectNatsBackend({ servers: `nats://127.0.0.1:${port}`, log: silentLogger() })).rejects.toMatchObject({ code: 'KND_BUS_UNAVAILABLE' });
  });

  it('refuses bad options, naming the field', async () => {
    await expect(connectNatsBackend({ servers: NATS_URL, scope: 'a.b' })).rejects.toMatchObject({ code: 'KND_VALIDATION', field: 'options.scope' });
  });

  afterAll(async () => {
    // Nothing of this run may be left on the server.
    const nc = await connect({ servers: NATS_URL });
    const jsm = await nc.jetstreamManager();
    const left: string[] = [];
    for await (const name of jsm.streams.names()) if (name.includes(run)) left.push(name);
    await nc.close();
    expect(left).toEqual([]);
  });
});
