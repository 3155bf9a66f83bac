import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { createLogger, randomId, type EventBus, type PublishAck, type PublishOptions } from '@kindling/core';
import { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import { spawnSync } from 'node:child_process';
import { describeWithService } from '@kindling/test-support';
import { startOwnMosquitto, type OwnMosquitto } from './support/mosquitto.js';
import { eventually } from '@kindling/provider-testkit';
import { MqttHarness } from './support/mqtt-harness.js';

/**
 * A provider host killed while QoS 1 messages are in flight: the bus lets the first messages
 * through, then never answers, as a host that dies mid-publish. A second host on the same store
 * and the same client id gets the unacknowledged messages from the broker's session and fires
 * them. Run against a Mosquitto of the test's own (unbounded queues, so that the broker itself
 * drops nothing).
 */
const describeWithMosquitto = await describeWithService('Mosquitto', '127.0.0.1', 1883);

/** A bus whose publishes stop answering after the first `answered` ones. */
class DyingBus implements EventBus {
  answered = 0;
  unanswered = 0;

  constructor(
    private readonly inner: EventBus,
    private readonly answer: number,
    /** Whether the unanswered publishes still reach the bus (durable, but the host never learns it). */
    private readonly storeUnanswered: boolean,
  ) {}

  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishAck> {
    if (this.answered < this.answer) {
      this.answered++;
      return this.inner.publish(subject, data, options);
    }
    this.unanswered++;
    if (this.storeUnanswered) void this.inner.publish(subject, data, options);
    return new Promise<PublishAck>(() => undefined);
  }

  consume: EventBus['consume'] = (options, handler) => this.inner.consume(options, handler);
  notify: EventBus['notify'] = (subject, data) => this.inner.notify(subject, data);
  listen: EventBus['listen'] = (subject, handler) => this.inner.listen(subject, handler);
  close = () => Promise.resolve();
}

/** A bus that counts the publishes it found already stored (de-duplicated by id). */
class CountingBus extends DyingBus {
  duplicates = 0;

  constructor(inner: EventBus) {
    super(inner, Number.POSITIVE_INFINITY, false);
  }

  override async publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishAck> {
    const ack = await super.publish(subject, data, options);
    if (ack.duplicate) this.duplicates++;
    return ack;
  }
}

const MESSAGES = 400;

function publishReadings(broker: OwnMosquitto, topic: string): void {
  const lines = Array.from({ length: MESSAGES }, (_, i) => JSON.stringify({ n: i + 1, celsius: 20 + (i % 10) })).join('\n');
  // -l: one QoS 1 message per line; it exits once the broker has acknowledged them all.
  const result = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-t', topic, '-q', '1', '-l'], { input: `${lines}\n` });
  if (result.status !== 0) throw new Error(`mosquitto_pub failed: ${result.stderr}`);
}

describeWithMosquitto('mqtt/subscription when its provider host dies with QoS 1 messages in flight', () => {
  let broker: OwnMosquitto;
  let backend: EmbeddedBackend;
  let harness: MqttHarness;

  beforeEach(async () => {
    broker = await startOwnMosquitto();
    backend = await openEmbeddedBackend({ log: createLogger({ level: 'silent' }) });
    harness = await new MqttHarness(backend).open();
  });
  afterEach(async () => {
    await harness.close();
    await backend.close();
    await broker.cleanup();
  });

  const killAndRestart = async (options: { idField?: string; storeUnanswered: boolean }) => {
    const events = await harness.events('readings');
    const dying = new DyingBus(backend.bus, 100, options.storeUnanswered);
    const first = await harness.newHost({ bus: dying });
    const feed = await harness.putFeed('readings', {
      url: broker.url,
      topic: 'plant/+/reading',
      qos: 1,
      clientId: `kill-${randomId(4)}`,
      ...(options.idField ? { idField: options.idField } : {}),
    });
    await harness.untilStatus(feed.id, 'active');

    publishReadings(broker, 'plant/line1/reading');
    await eventually(() => dying.unanswered > 0, 'messages in flight when the host dies');
    await harness.stopHost(first);

    const counting = new CountingBus(backend.bus);
    await harness.newHost({ bus: counting });
    const seen = () => new Set(events.map((e) => (e.data as { payload: { n: number } }).payload.n));
    await eventually(() => seen().size === MESSAGES, `all ${MESSAGES} readings`, 20_000);
    return { events, dying, counting };
  };

  it('fires every message at least once after the restart when the events never became durable', async () => {
    const { events, dying } = await killAndRestart({ storeUnanswered: false });
    expect(dying.unanswered).toBeGreaterThan(0);
    const counts = new Map<number, number>();
    for (const e of events) counts.set((e.data as { payload: { n: number } }).payload.n, (counts.get((e.data as { payload: { n: number } }).payload.n) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
    expect(events.length).toBeGreaterThanOrEqual(MESSAGES);
  });

  it('fires every message exactly once with idField, even those durable but never acknowledged to the broker', async () => {
    const { events, dying, counting } = await killAndRestart({ idField: 'n', storeUnanswered: true });
    expect(dying.unanswered).toBeGreaterThan(0);
    // The broker delivered the unacknowledged messages again; they were on the bus already.
    await eventually(() => counting.duplicates >= dying.unanswered, 'the redelivered messages absorbed as duplicates');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const numbers = events.map((e) => (e.data as { payload: { n: number } }).payload.n).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
  });
});
