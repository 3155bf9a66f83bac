import { afterEach, describe, expect, it } from '@jest/globals';
import { encodeJson, silentLogger, Subjects, type BusMessage } from '@kindling/core';
import { openEmbeddedBackend, type EmbeddedBackend } from './open-embedded-backend.js';

describe('EmbeddedBus', () => {
  let backend: EmbeddedBackend | undefined;
  afterEach(() => backend?.close());

  it('lets several subscribers open a new durable in the same turn, sharing one consumer', async () => {
    backend = await openEmbeddedBackend({ log: silentLogger() });
    const seen: number[] = [];
    const handler = async (m: BusMessage) => {
      seen.push(m.seq);
      m.ack();
    };
    const options = { durable: 'invoker', filter: Subjects.allInvocations, maxInFlight: 4 };
    await Promise.all([backend.bus.consume(options, handler), backend.bus.consume(options, handler)]);
    const acks = await Promise.all(Array.from({ length: 20 }, (_, i) => backend!.bus.publish(Subjects.invocation('guest', 'a'), encodeJson({ i }))));
    const deadline = Date.now() + 5_000;
    while (seen.length < acks.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen.sort((a, b) => a - b)).toEqual(acks.map((ack) => ack.seq));
    expect(backend.database.prepare('SELECT name FROM bus_consumers').all()).toEqual([{ name: 'invoker' }]);
  });
});
