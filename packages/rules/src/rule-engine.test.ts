import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  DeadLetterHeaders,
  KeyValueActivationStore,
  createCloudEvent,
  decodeJson,
  encodeJson,
  encoder,
  EntityStore,
  fromParams,
  randomId,
  ruleActivationId,
  silentLogger,
  Subjects,
  triggerActivationId,
  type BusMessage,
  type CloudEvent,
  type EventBus,
  type InvocationMessage,
  type KeyValueStore,
  type KvWatch,
  type RuleRecord,
  type TriggerRecord,
} from '@kindling/core';
import { openEmbeddedBackend } from '@kindling/embedded';
import { connectNatsBackend } from '@kindling/nats';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithNats, eventually, NATS_URL } from '@kindling/test-support';
import { RuleEngine, type RuleEngineOptions } from './rule-engine.js';

/**
 * The rule engine against both real backends: trigger events in, invocations and trigger
 * activation records out, with the guarantees a user relies on (merged parameters, filters,
 * one run per rule however often an event arrives, dead letters for poison).
 */
interface Backend {
  bus: EventBus;
  store: KeyValueStore;
  close(): Promise<void>;
}

const NS = 'guest';
const EVENT_TIME = Date.parse('2026-01-02T03:04:05.678Z');

const backends: Array<{ name: string; describe: typeof describe; open(): Promise<Backend> }> = [
  {
    name: 'the embedded backend',
    describe,
    async open() {
      const dataDir = await mkdtemp(join(tmpdir(), 'kindling-rules-'));
      const backend = await openEmbeddedBackend({ dataDir });
      return {
        bus: backend.bus,
        store: backend.store,
        async close() {
          await backend.close();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'NATS JetStream',
    describe: await describeWithNats(),
    async open() {
      const backend = await connectNatsBackend({ servers: NATS_URL, scope: `rules-test-${randomId(4)}` });
      return {
        bus: backend.bus,
        store: backend.store,
        async close() {
          await backend.destroyScope();
          await backend.close();
        },
      };
    },
  },
];

function triggerRecord(name: string, parameters: Record<string, unknown> = {}): TriggerRecord {
  return { namespace: NS, name, version: '0.0.1', publish: false, annotations: [], updated: 1, parameters: fromParams(parameters), limits: {} };
}

function ruleRecord(name: string, trigger: string, action: string, extra: Partial<RuleRecord> = {}): RuleRecord {
  return {
    namespace: NS,
    name,
    version: '0.0.1',
    publish: false,
    annotations: [],
    updated: 1,
    status: 'active',
    trigger: { path: NS, name: trigger },
    action: { path: NS, name: action },
    ...extra,
  };
}

/** Everything published on a subject filter, in stream order. */
async function collect(bus: EventBus, filter: string) {
  const messages: BusMessage[] = [];
  const consumption = await bus.consume({ durable: `test-${randomId(4)}`, filter, maxInFlight: 1 }, async (message) => {
    messages.push(message);
    message.ack();
  });
  return {
    messages,
    invocations: () => messages.map((m) => decodeJson<InvocationMessage>(m.data)),
    async waitFor(count: number): Promise<void> {
      await eventually(() => messages.length >= count, `${count} messages on ${filter} (got ${messages.length})`);
    },
    stop: () => consumption.stop(),
  };
}


/** A bus whose invocation publishes go through `publishInvocation`: how a test injects a failure around a real publish. */
function interceptInvocations(bus: EventBus, publishInvocation: (publish: () => Promise<unknown>) => Promise<unknown>): EventBus {
  return {
    publish(subject, data, options) {
      const publish = () => bus.publish(subject, data, options);
      return subject.startsWith(`${Subjects.invokePrefix}.`) ? (publishInvocation(publish) as ReturnType<EventBus['publish']>) : publish();
    },
    consume: (options, handler) => bus.consume(options, handler),
    notify: (subject, data) => bus.notify(subject, data),
    listen: (subject, handler) => bus.listen(subject, handler),
    close: () => bus.close(),
  };
}

/** A store whose watches stop passing changes on after their replay: how a test makes the engine's index lag behind the store. */
function laggingWatches(store: KeyValueStore): KeyValueStore {
  const frozenAfterReplay = (inner: KvWatch): KvWatch => ({
    stop: () => inner.stop(),
    async *[Symbol.asyncIterator]() {
      let live = false;
      for await (const change of inner) {
        if (!live) yield change;
        if (change === 'initialized') live = true;
      }
    },
  });
  return {
    async bucket(name) {
      const bucket = await store.bucket(name);
      return {
        name: bucket.name,
        get: (key) => bucket.get(key),
        put: (key, value, options) => bucket.put(key, value, options),
        delete: (key, options) => bucket.delete(key, options),
        keys: (prefix) => bucket.keys(prefix),
        watch: async (options) => frozenAfterReplay(await bucket.watch(options)),
      };
    },
    close: () => store.close(),
  };
}

for (const backendKind of backends) {
  backendKind.describe(`RuleEngine on ${backendKind.name}`, () => {
    let backend: Backend;
    let entities: EntityStore;
    let activations: KeyValueActivationStore;
    const engines: RuleEngine[] = [];
    const collectors: Array<{ stop(): Promise<void> }> = [];

    beforeEach(async () => {
      backend = await backendKind.open();
      entities = await EntityStore.open(backend.store);
      activations = await KeyValueActivationStore.open(backend.store);
    });

    afterEach(async () => {
      await Promise.all(engines.splice(0).map((engine) => engine.stop()));
      await Promise.all(collectors.splice(0).map((collector) => collector.stop()));
      await backend.close();
    });

    async function startEngine(options: Partial<RuleEngineOptions> = {}): Promise<RuleEngine> {
      const engine = new RuleEngine({ bus: backend.bus, store: backend.store, log: silentLogger(), ...options });
      await engine.start();
      engines.push(engine);
      return engine;
    }

    async function invocations() {
      const collector = await collect(backend.bus, Subjects.allInvocations);
      collectors.push(collector);
      return collector;
    }

    async function fire(trigger: string, data: unknown, id = randomId(8)): Promise<CloudEvent> {
      const event = createCloudEvent({ namespace: NS, trigger, data, id, time: EVENT_TIME });
      await backend.bus.publish(Subjects.event(NS, trigger), encodeJson(event), { msgId: event.id });
      return event;
    }

    it('publishes an invocation with the trigger parameters under the event payload', async () => {
      await entities.put('triggers', triggerRecord('door bell.v2', { greeting: 'hello', unit: 'C' }));
      await entities.put('rules', ruleRecord('ring', 'door bell.v2', 'notify'));
      const seen = await invocations();
      await startEngine();

      const event = await fire('door bell.v2', { unit: 'F', reading: 71 });
      await seen.waitFor(1);

      const activationId = ruleActivationId(NS, 'ring', event.id, EVENT_TIME);
      expect(seen.messages[0]!.subject).toBe(Subjects.invocation(NS, 'notify'));
      expect(seen.invocations()[0]).toEqual({
        activationId,
        namespace: NS,
        action: 'notify',
        params: { greeting: 'hello', unit: 'F', reading: 71 },
        requestedAt: expect.any(Number),
        cause: triggerActivationId(NS, 'door bell.v2', event.id, EVENT_TIME),
        rule: `${NS}/ring`,
        eventId: event.id,
        subject: NS,
      });
    });

    it('passes a payload that is not an object as `payload`', async () => {
      await entities.put('triggers', triggerRecord('bell', { greeting: 'hello' }));
      await entities.put('rules', ruleRecord('ring', 'bell', 'notify'));
      const seen = await invocations();
      await startEngine();

      await fire('bell', 'ding');
      await seen.waitFor(1);
      expect(seen.invocations()[0]!.params).toEqual({ greeting: 'hello', payload: 'ding' });
    });

    it('records the trigger activation as OpenWhisk does: payload as result, one log line per rule', async () => {
      await entities.put('triggers', triggerRecord('bell', { greeting: 'hello' }));
      await entities.put('rules', ruleRecord('ring', 'bell', 'notify'));
      const seen = await invocations();
      const engine = await startEngine();

      const event = await fire('bell', { visitor: 'ann' });
      await seen.waitFor(1);
      await eventually(() => engine.metrics().events >= 1, 'the event to be acked');

      const id = triggerActivationId(NS, 'bell', event.id, EVENT_TIME);
      const record = await activations.get(NS, id);
      expect(record).toEqual({
        namespace: NS,
        name: 'bell',
        subject: NS,
        activationId: id,
        start: EVENT_TIME,
        response: { status: 'success', statusCode: 0, success: true, result: { visitor: 'ann' } },
        logs: [
          `{"statusCode":0,"success":true,"activationId":"${ruleActivationId(NS, 'ring', event.id, EVENT_TIME)}","rule":"${NS}/ring","action":"${NS}/notify"}`,
        ],
        annotations: [
          { key: 'path', value: `${NS}/bell` },
          { key: 'source', value: event.source },
          { key: 'type', value: event.type },
        ],
        version: '0.0.1',
        publish: false,
        eventId: event.id,
      });
      expect(record).not.toHaveProperty('end');
      expect(record).not.toHaveProperty('duration');
    });

    it('dispatches to every active rule of a trigger', async () => {
      await entities.put('triggers', triggerRecord('bell'));
      await entities.put('rules', ruleRecord('ring', 'bell', 'notify'));
      await entities.put('rules', ruleRecord('log', 'bell', 'audit'));
      const seen = await invocations();
      const engine = await startEngine();

      const event = await fire('bell', {});
      await seen.waitFor(2);
      await eventually(() => engine.metrics().events >= 1, 'the event to be acked');

      const byAction = Object.fromEntries(seen.invocations().map((i) => [i.action, i.activationId]));
      expect(byAction).toEqual({
        notify: ruleActivationId(NS, 'ring', event.id, EVENT_TIME),
        audit: ruleActivationId(NS, 'log', event.id, EVENT_TIME),
      });
      const record = await activations.get(NS, triggerActivationId(NS, 'bell', event.id, EVENT_TIME));
      expect(record?.logs.map((line) => JSON.parse(line).rule).sort()).toEqual([`${NS}/log`, `${NS}/ring`]);
    });

    it('dispatches a rule whose filter matches and skips one whose filter does not', async () => {
      await entities.put('triggers', triggerRecord('thermometer'));
      await entities.put('rules', ruleRecord('too-hot', 'thermometer', 'cool', { filter: { 'data.temperature': { $gt: 30 } } }));
      await entities.put('rules', ruleRecord('too-cold', 'thermometer', 'heat', { filter: { 'data.temperature': { $lt: 0 }, type: 'dev.kindling.trigger.fired' } }));
      const seen = await invocations();
      const engine = await startEngine();

      const hot = await fire('thermometer', { temperature: 35 });
      await eventually(() => engine.metrics().events >= 1, 'the first event to be acked');
      const cold = await fire('thermometer', { temperature: -5 });
      await seen.waitFor(2);

      expect(seen.invocations().map((i) => [i.action, i.eventId])).toEqual([
        ['cool', hot.id],
        ['heat', cold.id],
      ]);
      const record = await activations.get(NS, triggerActivationId(NS, 'thermometer', hot.id, EVENT_TIME));
      expect(record?.logs.map((line) => JSON.parse(line))).toEqual(
        expect.arrayContaining([
          { statusCode: 0, success: true, activationId: seen.invocations()[0]!.activationId, rule: `${NS}/too-hot`, action: `${NS}/cool` },
          { statusCode: 0, success: true, skipped: 'filter did not match', rule: `${NS}/too-cold`, action: `${NS}/heat` },
        ]),
      );
    });

    it('skips a rule whose filter fails, with the error in the trigger activation log', async () => {
      await entities.put('triggers', triggerRecord('bell'));
      await entities.put('rules', ruleRecord('plain', 'bell', 'notify'));
      await entities.put('rules', ruleRecord('broken', 'bell', 'never', { filter: { 'data.room': { $in: 5 } } }));
      // Stored without the API's validation: the engine must still not crash on it.
      await entities.put('rules', ruleRecord('invalid', 'bell', 'never', { filter: { $bogus: 1 } }));
      const seen = await invocations();
      const engine = await startEngine();

      const event = await fire('bell', { room: 'lab' });
      await seen.waitFor(1);
      await eventually(() => engine.metrics().events >= 1, 'the event to be acked');

      expect(seen.invocations().map((i) => i.action)).toEqual(['notify']);
      const record = await activations.get(NS, triggerActivationId(NS, 'bell', event.id, EVENT_TIME));
      const failed = record!.logs.map((line) => JSON.parse(line)).filter((line) => line.success === false);
      expect(failed.map((line) => line.rule).sort()).toEqual([`${NS}/broken`, `${NS}/invalid`]);
      for (const line of failed) expect(line).toEqual({ statusCode: 1, success: false, error: expect.stringMatching(/filter/), rule: line.rule, action: `${NS}/never` });
      expect(failed.find((line) => line.rule === `${NS}/invalid`).error).toContain('$bogus');
    });

    it('an inactive rule dispatches nothing, and a fire with no active rule leaves no record', async () => {
      await entities.put('triggers', triggerRecord('quiet'));
      await entities.put('triggers', triggerRecord('marker'));
      await entities.put('rules', ruleRecord('off', 'quiet', 'notify', { status: 'inactive' }));
      await entities.put('rules', ruleRecord('on', 'marker', 'notify'));
      const seen = await invocations();
      const engine = await startEngine();

      const quiet = await fire('quiet', {});
      await eventually(() => engine.metrics().events >= 1, 'the quiet event to be acked');
      // Anything the quiet event published is durable by now, so it would arrive before this one.
      const marker = await fire('marker', {});
      await seen.waitFor(1);

      expect(seen.invocations().map((i) => i.eventId)).toEqual([marker.id]);
      expect(await activations.get(NS, triggerActivationId(NS, 'quiet', quiet.id, EVENT_TIME))).toBeNull();
    });

    it('stops dispatching a rule as soon as its disabling is seen, and drops events of a deleted trigger', async () => {
      await entities.put('triggers', triggerRecord('bell'));
      await entities.put('triggers', triggerRecord('marker'));
      await entities.put('rules', ruleRecord('ring', 'bell', 'notify'));
      await entities.put('rules', ruleRecord('on', 'marker', 'notify'));
      const seen = await invocations();
      const engine = await startEngine();

      const before = await fire('bell', {});
      await seen.waitFor(1);
      const revision = await entities.put('rules', ruleRecord('ring', 'bell', 'notify', { status: 'inactive' }));
      await engine.reflects('rules', revision);
      await fire('bell', {});
      await eventually(() => engine.metrics().events >= 2, 'the second event to be acked');

      // The rule is active again, so only the trigger's absence can keep the next event from dispatching.
      await entities.delete('triggers', NS, 'bell');
      await engine.reflects('rules', await entities.put('rules', ruleRecord('ring', 'bell', 'notify')));
      await engine.reflects('triggers', await entities.put('triggers', triggerRecord('unrelated')));
      const orphan = await fire('bell', {});
      await eventually(() => engine.metrics().events >= 3, 'the orphan event to be acked');

      const marker = await fire('marker', {});
      await seen.waitFor(2);
      expect(seen.invocations().map((i) => i.eventId)).toEqual([before.id, marker.id]);
      expect(await activations.get(NS, triggerActivationId(NS, 'bell', orphan.id, EVENT_TIME))).toBeNull();
    });

    it('reads the store for an event whose trigger the index has not seen yet', async () => {
      const seen = await invocations();
      const engine = await startEngine({ store: laggingWatches(backend.store) });
      // Created after the engine started: its index never hears of them.
      await entities.put('triggers', triggerRecord('brand-new', { greeting: 'hi' }));
      await entities.put('rules', ruleRecord('fresh', 'brand-new', 'notify'));
      await entities.put('rules', ruleRecord('dormant', 'brand-new', 'notify', { status: 'inactive' }));

      const event = await fire('brand-new', { n: 1 });
      await seen.waitFor(1);
      await eventually(() => engine.metrics().events >= 1, 'the event to be acked');
      expect(seen.invocations()).toEqual([
        expect.objectContaining({ activationId: ruleActivationId(NS, 'fresh', event.id, EVENT_TIME), params: { greeting: 'hi', n: 1 } }),
      ]);
      expect(await activations.get(NS, triggerActivationId(NS, 'brand-new', event.id, EVENT_TIME))).toMatchObject({ name: 'brand-new' });
    });

    it('runs each rule once for an event published twice, with or without the same message id', async () => {
      await entities.put('triggers', triggerRecord('bell'));
      await entities.put('triggers', triggerRecord('marker'));
      await entities.put('rules', ruleRecord('ring', 'bell', 'notify'));
      await entities.put('rules', ruleRecord('on', 'marker', 'notify'));
      const seen = await invocations();
      const engine = await startEngine();

      const event = await fire('bell', { n: 1 });
      const again = await backend.bus.publish(Subjects.event(NS, 'bell'), encodeJson(event), { msgId: event.id });
      expect(again.duplicate).toBe(true);
      // The same event stored a second time (a source that retried without an id): the engine sees it twice.
      await backend.bus.publish(Subjects.event(NS, 'bell'), encodeJson(event), { msgId: `replay-${event.id}` });
      await eventually(() => engine.metrics().events >= 2, 'both copies to be acked');

      const marker = await fire('marker', {});
      await seen.waitFor(2);
      expect(seen.invocations().map((i) => i.eventId)).toEqual([event.id, marker.id]);
    });

    it('runs each rule once when an event is delivered again after its invocations were published', async () => {
      await entities.put('triggers', triggerRecord('bell'));
      await entities.put('triggers', triggerRecord('marker'));
      await entities.put('rules', ruleRecord('ring', 'bell', 'notify'));
      await entities.put('rules', ruleRecord('on', 'marker', 'notify'));
      const seen = await invocations();
      let failures = 0;
      // The first publish reaches the stream, then the engine is told it failed: the event is nak'ed and redelivered.
      const bus = interceptInvocations(backend.bus, async (publish) => {
        const ack = await publish();
        if (failures++ === 0) throw new Error('connection lost before the ack arrived');
        return ack;
      });
      const engine = await startEngine({ bus, retryBackoff: { initialMs: 10, maxMs: 10 } });

      const event = await fire('bell', {});
      await eventually(() => engine.metrics().events >= 1, 'the event to be acked after its redelivery');
      expect(engine.metrics().retries).toBe(1);

      const marker = await fire('marker', {});
      await seen.waitFor(2);
      expect(seen.invocations().map((i) => i.eventId)).toEqual([event.id, marker.id]);
    });

    it('sends an undecodable event to the dead letters at once', async () => {
      const dead = await collect(backend.bus, Subjects.allDeadLetters);
      collectors.push(dead);
      const engine = await startEngine();

      const garbage = encoder.encode('{"id": "half an event"');
      await backend.bus.publish(Subjects.event(NS, 'bell'), garbage);
      await dead.waitFor(1);

      const [message] = dead.messages;
      expect(message!.subject).toBe(Subjects.deadLetter('events', NS, 'bell'));
      expect(Buffer.from(message!.data)).toEqual(Buffer.from(garbage));
      expect(message!.headers[DeadLetterHeaders.reason]).toMatch(/not JSON/);
      expect(message!.headers[DeadLetterHeaders.deliveries]).toBe('1');
      expect(message!.headers[DeadLetterHeaders.subject]).toBe(Subjects.event(NS, 'bell'));
      await eventually(() => engine.metrics().deadLetters === 1, 'the dead letter to be counted');
    });

    it('retries an event that keeps failing, then sends it to the dead letters with the reason', async () => {
      await entities.put('triggers', triggerRecord('bell'));
      await entities.put('rules', ruleRecord('ring', 'bell', 'notify'));
      const dead = await collect(backend.bus, Subjects.allDeadLetters);
      collectors.push(dead);
      const bus = interceptInvocations(backend.bus, async () => {
        throw new Error('stream KINDLING_INVOKE is full');
      });
      const engine = await startEngine({ bus, maxDeliveries: 3, retryBackoff: { initialMs: 10, maxMs: 10 } });

      const event = await fire('bell', {});
      await dead.waitFor(1);

      const [message] = dead.messages;
      expect(message!.subject).toBe(Subjects.deadLetter('events', NS, 'bell'));
      expect(decodeJson<CloudEvent>(message!.data).id).toBe(event.id);
      expect(message!.headers[DeadLetterHeaders.reason]).toBe('failed 3 times: stream KINDLING_INVOKE is full');
      expect(message!.headers[DeadLetterHeaders.deliveries]).toBe('3');
      expect(engine.metrics()).toMatchObject({ events: 0, retries: 2, deadLetters: 1 });
    });

    it('sends an event whose invocation would be too large to the dead letters at once', async () => {
      // Each half fits in a message; trigger parameters and payload together do not.
      await entities.put('triggers', triggerRecord('bell', { defaults: 'd'.repeat(700_000) }));
      await entities.put('rules', ruleRecord('ring', 'bell', 'notify'));
      const dead = await collect(backend.bus, Subjects.allDeadLetters);
      collectors.push(dead);
      const engine = await startEngine();

      await fire('bell', { big: 'p'.repeat(700_000) });
      await dead.waitFor(1);
      expect(dead.messages[0]!.headers[DeadLetterHeaders.reason]).toMatch(/^too large to dispatch/);
      expect(dead.messages[0]!.headers[DeadLetterHeaders.deliveries]).toBe('1');
      expect(engine.metrics()).toMatchObject({ retries: 0, deadLetters: 1 });
    });

    it('shares the events between engines on the same durable, each invocation once', async () => {
      await entities.put('triggers', triggerRecord('bell'));
      await entities.put('rules', ruleRecord('ring', 'bell', 'notify'));
      const seen = await invocations();
      const pair = [await startEngine({ maxInFlight: 4 }), await startEngine({ maxInFlight: 4 })];
      const acked = () => pair[0]!.metrics().events + pair[1]!.metrics().events;

      const events = await Promise.all(Array.from({ length: 40 }, (_, n) => fire('bell', { n })));
      await seen.waitFor(40);
      await eventually(() => acked() >= 40, 'every event to be acked');

      expect(new Set(seen.invocations().map((i) => i.eventId))).toEqual(new Set(events.map((e) => e.id)));
      expect(acked()).toBe(40);
    });
  });
}
