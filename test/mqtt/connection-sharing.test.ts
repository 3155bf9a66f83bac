import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { createLogger, randomId, type CloudEvent } from '@kindling/core';
import { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import { startEmbeddedBroker, type EmbeddedBroker } from '@kindling/mqtt-broker';
import mqtt from 'mqtt';
import { describeWithService } from '@kindling/test-support';
import { startOwnMosquitto, type OwnMosquitto } from './support/mosquitto.js';
import { eventually } from '@kindling/provider-testkit';
import { MqttHarness } from './support/mqtt-harness.js';

/**
 * A thousand feeds on one broker, with the same credentials and no explicit client id, hold one
 * connection between them: counted by the broker itself.
 */
const describeWithMosquitto = await describeWithService('Mosquitto', '127.0.0.1', 1883);

const FEEDS = 1000;

interface Broker {
  url: string;
  connectedClients(): Promise<number> | number;
  close(): Promise<void>;
}

const brokers = [
  {
    name: 'Mosquitto ($SYS/broker/clients/connected)',
    async start(): Promise<Broker> {
      const own: OwnMosquitto = await startOwnMosquitto();
      return { url: own.url, connectedClients: () => own.connectedClients(), close: () => own.cleanup() };
    },
  },
  {
    name: 'the embedded broker (its client count)',
    async start(): Promise<Broker> {
      const embedded: EmbeddedBroker = await startEmbeddedBroker({ port: 0, log: createLogger({ level: 'silent' }) });
      return { url: embedded.url, connectedClients: () => embedded.connectedClients(), close: () => embedded.close() };
    },
  },
];

describeWithMosquitto.each(brokers)('1,000 mqtt/subscription feeds on $name', ({ start }) => {
  let broker: Broker;
  let backend: EmbeddedBackend;
  let harness: MqttHarness;

  beforeEach(async () => {
    broker = await start();
    backend = await openEmbeddedBackend({ log: createLogger({ level: 'silent' }) });
    harness = await new MqttHarness(backend).open();
  });
  afterEach(async () => {
    await harness.close();
    await backend.close();
    await broker.close();
  });

  it('use one connection, and each message reaches the feed of its topic', async () => {
    const events: CloudEvent[] = await harness.events('fleet');
    await harness.newHost();
    const feeds = await Promise.all(Array.from({ length: FEEDS }, (_, i) => harness.putFeed('fleet', { url: broker.url, topic: `fleet/${i}/temperature` })));
    await eventually(async () => {
      const statuses = await Promise.all(feeds.map((feed) => harness.status(feed.id)));
      return statuses.every((status) => status?.status === 'active');
    }, 'every feed active', 60_000);

    expect(await broker.connectedClients()).toBe(1);

    const publisher = await mqtt.connectAsync(broker.url, { clientId: `pub-${randomId(4)}` });
    const picked = [0, 1, 499, 998, 999];
    for (const i of picked) await publisher.publishAsync(`fleet/${i}/temperature`, JSON.stringify({ i }), { qos: 1 });
    await publisher.endAsync();
    await eventually(() => events.length === picked.length, 'one event per message');
    for (const event of events) {
      const { i } = (event.data as { payload: { i: number } }).payload;
      expect(event.source).toBe(`/kindling/providers/mqtt/feeds/${feeds[i]?.id}`);
    }
  }, 120_000);
});
