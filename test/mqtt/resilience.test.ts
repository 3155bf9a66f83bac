import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { createLogger, randomId } from '@kindling/core';
import { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import mqtt from 'mqtt';
import { describeWithService } from '@kindling/test-support';
import { startOwnMosquitto, type OwnMosquitto } from './support/mosquitto.js';
import { eventually } from '@kindling/provider-testkit';
import { MqttHarness } from './support/mqtt-harness.js';

/**
 * What a feed's status says when its broker goes away, comes back, or refuses its credentials;
 * and that credentials stay out of logs, statuses and events. Each test runs a Mosquitto of its
 * own, which it stops and starts.
 */
const describeWithMosquitto = await describeWithService('Mosquitto', '127.0.0.1', 1883);

const USER = 'gateway-7f3a91';
const PASSWORD = 'pw-c0ffee-9d2e41';

async function publish(broker: OwnMosquitto, topic: string, payload: string, auth: { username?: string; password?: string } = {}): Promise<void> {
  const client = await mqtt.connectAsync(broker.url, { clientId: `pub-${randomId(4)}`, ...auth });
  await client.publishAsync(topic, payload, { qos: 1 });
  await client.endAsync();
}

describeWithMosquitto('mqtt/subscription resilience', () => {
  let broker: OwnMosquitto | undefined;
  let backend: EmbeddedBackend;
  let harness: MqttHarness;

  beforeEach(async () => {
    backend = await openEmbeddedBackend({ log: createLogger({ level: 'silent' }) });
    harness = await new MqttHarness(backend).open();
  });
  afterEach(async () => {
    await harness.close();
    await backend.close();
    await broker?.cleanup();
    broker = undefined;
  });

  it('goes failing with the reason while the broker is down, back to active when it returns, and resubscribes', async () => {
    broker = await startOwnMosquitto();
    const events = await harness.events('temps');
    await harness.newHost();
    const feed = await harness.putFeed('temps', { url: broker.url, topic: 'room/+/temperature' });
    await harness.untilStatus(feed.id, 'active');
    await publish(broker, 'room/a/temperature', '{"c": 20}');
    await eventually(() => events.length === 1, 'the first event');

    await broker.stop();
    const failing = await harness.untilStatus(feed.id, 'failing');
    expect(failing.reason).toContain(`cannot reach the MQTT broker at ${broker.url}`);

    // This Mosquitto keeps no sessions across a restart: the feed must subscribe again.
    await broker.start();
    await harness.untilStatus(feed.id, 'active', 15_000);
    await publish(broker, 'room/b/temperature', '{"c": 21}');
    await eventually(() => events.length === 2, 'an event published after the broker came back');
    expect(events.map((e) => e.subject)).toEqual(['room/a/temperature', 'room/b/temperature']);
  });

  it('is failing while the broker is unreachable at start, and active once it can connect', async () => {
    broker = await startOwnMosquitto();
    await broker.stop();
    const events = await harness.events('temps');
    await harness.newHost();
    const feed = await harness.putFeed('temps', { url: broker.url, topic: 'room/#' });
    const failing = await harness.untilStatus(feed.id, 'failing');
    expect(failing.reason).toMatch(/cannot reach the MQTT broker .*ECONNREFUSED/);

    await broker.start();
    await harness.untilStatus(feed.id, 'active', 15_000);
    await publish(broker, 'room/x', '{"c": 1}');
    await eventually(() => events.length === 1, 'an event');
  });

  it.each([4, 5] as const)('is disabled, not retried, when the broker refuses its credentials (MQTT protocol version %d)', async (protocolVersion) => {
    broker = await startOwnMosquitto({ users: { [USER]: PASSWORD } });
    await harness.newHost();
    const wrong = 'not-the-password-51a7';
    const feed = await harness.putFeed('temps', { url: broker.url, topic: 'room/#', username: USER, password: wrong, protocolVersion });
    const disabled = await harness.untilStatus(feed.id, 'disabled');
    expect(disabled.reason).toMatch(/^the MQTT broker at mqtt:\/\/127\.0\.0\.1:\d+ refused our credentials \(CONNACK \d+: (not authorized|bad user name or password)\)/);
    expect(disabled.failures).toBe(1);
    expect(JSON.stringify(disabled)).not.toContain(wrong);
    expect(harness.logLines.join('')).not.toContain(wrong);
  });

  it('keeps the credentials out of logs, statuses and events', async () => {
    broker = await startOwnMosquitto({ users: { [USER]: PASSWORD } });
    const events = await harness.events('temps');
    await harness.newHost();
    const feed = await harness.putFeed('temps', { url: broker.url, topic: 'room/#', username: USER, password: PASSWORD });
    await harness.untilStatus(feed.id, 'active');
    await publish(broker, 'room/a', '{"c": 20}', { username: USER, password: PASSWORD });
    await eventually(() => events.length === 1, 'an event');

    await broker.stop();
    const failing = await harness.untilStatus(feed.id, 'failing');
    await broker.start();
    await harness.untilStatus(feed.id, 'active', 15_000);

    const everything = [JSON.stringify(events), JSON.stringify(failing), harness.logLines.join('')].join('\n');
    expect(harness.logLines.join('')).toContain('mqtt connection down');
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(USER);
  });
});
