import { describe, expect, it } from '@jest/globals';
import { createLogger } from '@kindling/core';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from './embedded-broker.js';

const log = createLogger({ level: 'silent' });

describe('startEmbeddedBroker', () => {
  it('carries messages between clients on a free loopback port, and counts them', async () => {
    const broker = await startEmbeddedBroker({ port: 0, log });
    try {
      expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
      const subscriber = await mqtt.connectAsync(broker.url, { clientId: 'sub' });
      const publisher = await mqtt.connectAsync(broker.url, { clientId: 'pub' });
      expect(broker.connectedClients()).toBe(2);
      const received = new Promise<string>((resolve) => subscriber.on('message', (topic, payload) => resolve(`${topic} ${payload.toString()}`)));
      await subscriber.subscribeAsync('sensors/+/temperature', { qos: 1 });
      await publisher.publishAsync('sensors/a/temperature', '21.5', { qos: 1 });
      expect(await received).toBe('sensors/a/temperature 21.5');
      await publisher.endAsync();
      await subscriber.endAsync();
    } finally {
      await broker.close();
    }
  });

  it('says which flag to use when its port is taken', async () => {
    const first = await startEmbeddedBroker({ port: 0, log });
    try {
      await expect(startEmbeddedBroker({ port: first.port, log })).rejects.toMatchObject({
        code: 'KND_CONFLICT',
        message: `port ${first.port} is in use: pass --mqtt-port or --no-mqtt`,
      });
    } finally {
      await first.close();
    }
  });

  it('disconnects its clients when closed, and can be closed twice', async () => {
    const broker = await startEmbeddedBroker({ port: 0, log });
    const client = await mqtt.connectAsync(broker.url, { clientId: 'c', reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await broker.close();
    await closed;
    await broker.close();
    await client.endAsync(true);
  });
});
