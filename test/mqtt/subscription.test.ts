import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { createLogger, randomId, type CloudEvent, type KeyValueStore } from '@kindling/core';
import { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import { startEmbeddedBroker, type EmbeddedBroker } from '@kindling/mqtt-broker';
import { Aedes } from 'aedes';
import { spawnSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { describeWithService } from '@kindling/test-support';
import { eventually } from '@kindling/provider-testkit';
import { MqttHarness } from './support/mqtt-harness.js';

/**
 * A subscription feed against a real broker, driven by the real FeedHost on the embedded
 * backend, with an independent publisher: `mosquitto_pub` for the system Mosquitto, MQTT.js for
 * the embedded broker. Each test uses its own topic prefix and client id, and clean sessions, so
 * that it leaves nothing behind on the shared broker.
 */
const describeWithMosquitto = await describeWithService('Mosquitto', '127.0.0.1', 1883);

interface BrokerUnderTest {
  name: string;
  url(): string;
  publish(topic: string, payload: string | Buffer, qos: 0 | 1 | 2): Promise<void>;
}

const SYSTEM_MOSQUITTO = 'mqtt://127.0.0.1:1883';

function slowStore(store: KeyValueStore, delayMs: number): KeyValueStore {
  const later = () => new Promise((resolve) => setTimeout(resolve, delayMs));
  return {
    async bucket(name) {
      const bucket = await store.bucket(name);
      return {
        name: bucket.name,
        get: async (key) => (await later(), bucket.get(key)),
        put: async (key, value, options) => (await later(), bucket.put(key, value, options)),
        delete: async (key, options) => (await later(), bucket.delete(key, options)),
        keys: (prefix) => bucket.keys(prefix),
        watch: (options) => bucket.watch(options),
      };
    },
    close: () => store.close(),
  };
}

const mosquitto: BrokerUnderTest = {
  name: 'the system Mosquitto (mosquitto_pub)',
  url: () => SYSTEM_MOSQUITTO,
  async publish(topic, payload, qos) {
    // -s reads the payload from stdin, so any bytes (not only valid text) can be sent.
    const result = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', '1883', '-t', topic, '-q', String(qos), '-s'], { input: payload });
    if (result.status !== 0) throw new Error(`mosquitto_pub failed: ${result.stderr}`);
  },
};

let embedded: EmbeddedBroker | undefined;
const embeddedBroker: BrokerUnderTest = {
  name: 'the embedded broker (MQTT.js publisher)',
  url: () => (embedded as EmbeddedBroker).url,
  async publish(topic, payload, qos) {
    const client = await mqtt.connectAsync((embedded as EmbeddedBroker).url, { clientId: `pub-${randomId(4)}` });
    await client.publishAsync(topic, payload, { qos });
    await client.endAsync();
  },
};

describeWithMosquitto.each([mosquitto, embeddedBroker])('mqtt/subscription on $name', (broker) => {
  let backend: EmbeddedBackend;
  let harness: MqttHarness;
  let prefix: string;

  beforeAll(async () => {
    if (broker === embeddedBroker) embedded = await startEmbeddedBroker({ port: 0, log: createLogger({ level: 'silent' }) });
  });
  afterAll(async () => {
    if (broker === embeddedBroker) await embedded?.close();
  });

  beforeEach(async () => {
    backend = await openEmbeddedBackend({ log: createLogger({ level: 'silent' }) });
    harness = await new MqttHarness(backend).open();
    prefix = `kt-${randomId(4)}`;
  });
  afterEach(async () => {
    await harness.close();
    await backend.close();
  });

  /** Feed parameters that keep the test to itself on a shared broker. */
  const feedParams = (params: Record<string, unknown>) => ({ url: broker.url(), clientId: `test-${randomId(6)}`, clean: true, ...params });

  const startFeed = async (trigger: string, params: Record<string, unknown>) => {
    const feed = await harness.putFeed(trigger, feedParams(params));
    await harness.untilStatus(feed.id, 'active');
    return feed;
  };

  it('fires one event per message on topics matching + and # filters, with the topic as subject', async () => {
    const events = await harness.events('temps');
    await harness.newHost();
    await startFeed('temps', { topic: [`${prefix}/+/temperature`, `${prefix}/alarm/#`] });

    await broker.publish(`${prefix}/s1/temperature`, '{"temperature": 21.5}', 1);
    await broker.publish(`${prefix}/s1/humidity`, '{"humidity": 40}', 1);
    await broker.publish(`${prefix}/s1/x/temperature`, '{"temperature": 0}', 1);
    await broker.publish(`${prefix}/alarm/door/front`, '{"open": true}', 1);
    await broker.publish(`${prefix}/alarm`, '{"armed": true}', 1);
    await broker.publish(`${prefix}/done/temperature`, '{"temperature": 99}', 1);

    await eventually(() => events.some((e) => e.subject === `${prefix}/done/temperature`), 'the last event');
    expect(events.map((e) => e.subject)).toEqual([
      `${prefix}/s1/temperature`,
      `${prefix}/alarm/door/front`,
      `${prefix}/alarm`,
      `${prefix}/done/temperature`,
    ]);
    expect(events[0]).toMatchObject({
      type: 'dev.kindling.mqtt.subscription',
      subject: `${prefix}/s1/temperature`,
      data: { topic: `${prefix}/s1/temperature`, payload: { temperature: 21.5 } },
    });
  });

  it('delivers at QoS 0, 1 and 2', async () => {
    const events: Record<number, CloudEvent[]> = {};
    await harness.newHost();
    for (const qos of [0, 1, 2] as const) {
      events[qos] = await harness.events(`q${qos}`);
      await startFeed(`q${qos}`, { topic: `${prefix}/q${qos}`, qos });
    }
    for (const qos of [0, 1, 2] as const) {
      for (let n = 1; n <= 3; n++) await broker.publish(`${prefix}/q${qos}`, JSON.stringify({ n }), qos);
    }
    for (const qos of [0, 1, 2] as const) {
      await eventually(() => events[qos]?.length === 3, `three QoS ${qos} events`);
      expect(events[qos]?.map((e) => (e.data as { payload: { n: number } }).payload.n)).toEqual([1, 2, 3]);
    }
  });

  it('decodes json, text and binary payloads, and records a payload it cannot decode instead of dropping it', async () => {
    const json = await harness.events('json');
    const text = await harness.events('text');
    const binary = await harness.events('binary');
    await harness.newHost();
    await startFeed('json', { topic: `${prefix}/json`, format: 'json', maxPayloadBytes: 64 });
    await startFeed('text', { topic: `${prefix}/text`, format: 'text' });
    await startFeed('binary', { topic: `${prefix}/binary`, format: 'binary' });

    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x41]);
    await broker.publish(`${prefix}/json`, '{"ok": [1, 2]}', 1);
    await broker.publish(`${prefix}/json`, '{not json', 1);
    await broker.publish(`${prefix}/json`, `{"big": "${'x'.repeat(100)}"}`, 1);
    await broker.publish(`${prefix}/text`, 'héllo', 1);
    await broker.publish(`${prefix}/text`, bytes, 1);
    await broker.publish(`${prefix}/binary`, bytes, 1);

    await eventually(() => json.length === 3 && text.length === 2 && binary.length === 1, 'six events');
    expect(json[0]?.data).toEqual({ topic: `${prefix}/json`, payload: { ok: [1, 2] } });
    expect(json[1]?.data).toMatchObject({ payload: null, payloadBase64: Buffer.from('{not json').toString('base64'), payloadBytes: 9 });
    expect((json[1]?.data as { error: string }).error).toMatch(/^payload is not valid JSON/);
    expect(json[2]?.data).toEqual({ topic: `${prefix}/json`, payload: null, error: 'payload of 111 bytes exceeds maxPayloadBytes (64)', payloadBytes: 111 });
    expect(text[0]?.data).toEqual({ topic: `${prefix}/text`, payload: 'héllo' });
    expect(text[1]?.data).toEqual({ topic: `${prefix}/text`, payload: null, error: 'payload is not valid UTF-8', payloadBase64: bytes.toString('base64'), payloadBytes: 4 });
    expect(binary[0]?.data).toEqual({ topic: `${prefix}/binary`, payload: bytes.toString('base64') });
  });

  it('fires only the messages the edge filter matches', async () => {
    const events = await harness.events('hot');
    await harness.newHost();
    await startFeed('hot', { topic: `${prefix}/+/temperature`, filter: { 'payload.temperature': { $gt: 30 }, topic: { $regex: '/kitchen/' } } });

    await broker.publish(`${prefix}/kitchen/temperature`, '{"temperature": 25}', 1);
    await broker.publish(`${prefix}/kitchen/temperature`, '{"temperature": 35}', 1);
    await broker.publish(`${prefix}/garage/temperature`, '{"temperature": 40}', 1);
    await broker.publish(`${prefix}/kitchen/temperature`, '{"temperature": 31}', 1);

    await eventually(() => events.length === 2, 'two hot readings');
    // A later message arriving proves the others were looked at and left out, not still on their way.
    await broker.publish(`${prefix}/kitchen/temperature`, '{"temperature": 50}', 1);
    await eventually(() => events.length === 3, 'a third hot reading');
    expect(events.map((e) => (e.data as { payload: { temperature: number } }).payload.temperature)).toEqual([35, 31, 50]);
  });

  it('makes the event id from idField, so a message published twice fires once', async () => {
    const events = await harness.events('dedup');
    await harness.newHost();
    await startFeed('dedup', { topic: `${prefix}/+/reading`, idField: 'meta.seq' });

    await broker.publish(`${prefix}/a/reading`, '{"meta": {"seq": 1}, "v": 1}', 1);
    await broker.publish(`${prefix}/a/reading`, '{"meta": {"seq": 1}, "v": 1}', 1);
    // The same sequence number from another device is another message.
    await broker.publish(`${prefix}/b/reading`, '{"meta": {"seq": 1}, "v": 2}', 1);
    await broker.publish(`${prefix}/a/reading`, '{"meta": {"seq": 2}, "v": 3}', 1);

    await eventually(() => events.some((e) => (e.data as { payload: { v: number } }).payload.v === 3), 'the last reading');
    expect(events.map((e) => (e.data as { payload: { v: number } }).payload.v)).toEqual([1, 2, 3]);
  });

  it('shares one connection among feeds on the same broker and routes each message to every feed it matches', async () => {
    const all = await harness.events('all');
    const one = await harness.events('one');
    await harness.newHost();
    const clientId = `test-${randomId(6)}`;
    const a = await harness.putFeed('all', { url: broker.url(), clientId, clean: true, topic: `${prefix}/#` });
    const b = await harness.putFeed('one', { url: broker.url(), clientId, clean: true, topic: `${prefix}/one` });
    await harness.untilStatus(a.id, 'active');
    await harness.untilStatus(b.id, 'active');

    await broker.publish(`${prefix}/one`, '{"n": 1}', 1);
    await broker.publish(`${prefix}/two`, '{"n": 2}', 1);
    await eventually(() => all.length === 2 && one.length === 1, 'three events');
    expect(all.map((e) => e.subject)).toEqual([`${prefix}/one`, `${prefix}/two`]);
    expect(one.map((e) => e.subject)).toEqual([`${prefix}/one`]);
  });
  it('loses no message while a feed restarts for an update on a connection other feeds keep open', async () => {
    // A store that answers after a few milliseconds, as a networked one does, so that messages
    // arrive while the host stops the feed and starts it again.
    harness = await new MqttHarness({ bus: backend.bus, store: slowStore(backend.store, 3) }).open();
    const events = await harness.events('restarting');
    await harness.newHost();
    const clientId = `test-${randomId(6)}`;
    const common = { url: broker.url(), clientId, clean: true };
    const restarting = await harness.putFeed('restarting', { ...common, topic: `${prefix}/r`, idField: 'n' });
    const other = await harness.putFeed('other', { ...common, topic: `${prefix}/o` });
    await harness.untilStatus(restarting.id, 'active');
    await harness.untilStatus(other.id, 'active');

    const publisher = await mqtt.connectAsync(broker.url(), { clientId: `pub-${randomId(4)}` });
    const sends: Array<Promise<unknown>> = [];
    for (let n = 1; n <= 300; n++) {
      sends.push(publisher.publishAsync(`${prefix}/r`, JSON.stringify({ n }), { qos: 1 }));
      if (n === 100) await harness.putRecord({ ...restarting, generation: 2, params: { ...restarting.params, format: 'json' } });
      if (n % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(sends);
    await publisher.endAsync();
    await eventually(() => new Set(events.map((e) => (e.data as { payload: { n: number } }).payload.n)).size === 300, 'all 300 messages', 15_000);
  });
});


describeWithMosquitto('mqtt/subscription with MQTT 5 on the system Mosquitto', () => {
  let backend: EmbeddedBackend;
  let harness: MqttHarness;
  let prefix: string;

  beforeEach(async () => {
    backend = await openEmbeddedBackend({ log: createLogger({ level: 'silent' }) });
    harness = await new MqttHarness(backend).open();
    prefix = `kt5-${randomId(4)}`;
  });
  afterEach(async () => {
    await harness.close();
    await backend.close();
  });

  it('fires once per feed when feeds on one connection have overlapping filters (the broker sends a copy per subscription)', async () => {
    const wide = await harness.events('wide');
    const narrow = await harness.events('narrow');
    await harness.newHost();
    const clientId = `test5-${randomId(6)}`;
    const common = { url: SYSTEM_MOSQUITTO, clientId, clean: true, protocolVersion: 5 };
    const a = await harness.putFeed('wide', { ...common, topic: `${prefix}/#` });
    const b = await harness.putFeed('narrow', { ...common, topic: [`${prefix}/+/t`, `${prefix}/x/+`] });
    await harness.untilStatus(a.id, 'active');
    await harness.untilStatus(b.id, 'active');

    for (const topic of [`${prefix}/x/t`, `${prefix}/y/t`, `${prefix}/z/u`]) await mosquitto.publish(topic, '{}', 1);
    await eventually(() => wide.length === 3 && narrow.length === 2, 'five events');
    await mosquitto.publish(`${prefix}/end`, '{}', 1);
    await eventually(() => wide.length === 4, 'the last event');
    expect(wide.map((e) => e.subject)).toEqual([`${prefix}/x/t`, `${prefix}/y/t`, `${prefix}/z/u`, `${prefix}/end`]);
    expect(narrow.map((e) => e.subject)).toEqual([`${prefix}/x/t`, `${prefix}/y/t`]);
  });

  it('splits a topic among the members of a shared subscription group, each message fired once', async () => {
    const events = await harness.events('split');
    await harness.newHost();
    const members = [];
    for (let i = 0; i < 2; i++) {
      members.push(await harness.putFeed('split', { url: SYSTEM_MOSQUITTO, clean: true, protocolVersion: 5, topic: `${prefix}/load`, shareGroup: `g${prefix}` }));
    }
    for (const member of members) await harness.untilStatus(member.id, 'active');

    for (let n = 1; n <= 20; n++) await mosquitto.publish(`${prefix}/load`, JSON.stringify({ n }), 1);
    await eventually(() => events.length === 20, 'twenty events');
    expect(events.map((e) => (e.data as { payload: { n: number } }).payload.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const bySource = new Set(events.map((e) => e.source));
    expect(bySource.size).toBe(2);
  });
});

describeWithMosquitto('mqtt/subscription over WebSockets', () => {
  it('subscribes through a ws:// URL', async () => {
    // The system Mosquitto has no WebSocket listener: an aedes broker behind a ws server stands in.
    const broker = await Aedes.createBroker();
    const http = createHttpServer();
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (socket) => broker.handle(createWebSocketStream(socket)));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    const backend = await openEmbeddedBackend({ log: createLogger({ level: 'silent' }) });
    const harness = await new MqttHarness(backend).open();
    try {
      const events = await harness.events('ws');
      await harness.newHost();
      const feed = await harness.putFeed('ws', { url: `ws://127.0.0.1:${port}`, topic: 'ws/+', clean: true });
      await harness.untilStatus(feed.id, 'active');
      const publisher = await mqtt.connectAsync(`ws://127.0.0.1:${port}`, { clientId: `pub-${randomId(4)}` });
      await publisher.publishAsync('ws/a', '{"over": "websocket"}', { qos: 1 });
      await publisher.endAsync();
      await eventually(() => events.length === 1, 'an event');
      expect(events[0]?.data).toEqual({ topic: 'ws/a', payload: { over: 'websocket' } });
    } finally {
      await harness.close();
      await backend.close();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});
