import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  DeadLetterHeaders,
  KeyValueActivationStore,
  createCloudEvent,
  decodeJson,
  defaultLimits,
  encodeJson,
  EntityStore,
  randomId,
  silentLogger,
  Subjects,
  type ActionRecord,
  type ActivationStore,
  type ActivationRecord,
  type BusMessage,
  type CloudEvent,
  type EventBus,
  type InvocationMessage,
  type KeyValueStore,
  type RuleBatch,
  type RuleRecord,
} from '@kindling/core';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedBackend } from '@kindling/embedded';
import { connectNatsBackend, type NatsBackend } from '@kindling/nats';
import { RuleEngine, type RuleEngineOptions } from '@kindling/rules';
import { Invoker, ProcessRuntime } from '@kindling/runner';
import { describeWithNats, eventually, NATS_URL, openwhiskClient } from '@kindling/test-support';
import { PlatformFixture, PLATFORM_WAIT } from './platform-support.js';

/**
 * Batched rules through the real rule engine, invoker and process runtime, on both backends:
 * a batch closes at its size or its window, holds only the events its filter lets through,
 * runs its action once with one record listing its events, is retried and dead-lettered whole,
 * and a rule engine killed with a batch open loses none of its events.
 */
const NS = 'guest';
const describeNats = await describeWithNats();

interface Backend {
  bus: EventBus;
  store: KeyValueStore;
  /** A second connection to the same backend, for a process that can be killed (NATS only). */
  connectAgain?: () => Promise<NatsBackend>;
  close(): Promise<void>;
}

const backends: Array<{ name: string; describe: typeof describe; open(): Promise<Backend> }> = [
  {
    name: 'the embedded backend',
    describe,
    async open() {
      const backend = await openEmbeddedBackend({ log: silentLogger() });
      return { bus: backend.bus, store: backend.store, close: () => backend.close() };
    },
  },
  {
    name: 'NATS JetStream',
    describe: describeNats,
    async open() {
      const scope = `batch-test-${randomId(4)}`;
      const backend = await connectNatsBackend({ servers: NATS_URL, scope, log: silentLogger() });
      return {
        bus: backend.bus,
        store: backend.store,
        connectAgain: () => connectNatsBackend({ servers: NATS_URL, scope, log: silentLogger() }),
        async close() {
          await backend.destroyScope();
          await backend.close();
        },
      };
    },
  },
];

/** Returns the ids and data of the events it was given, so a test sees exactly what ran. */
const COLLECT = `function main(params) {
  return { count: params.events.length, ids: params.events.map((e) => e.id), data: params.events.map((e) => e.data), site: params.site };
}`;

const FAIL = `function main(params) { return { error: 'sink down for ' + params.events.length + ' events' }; }`;

function action(name: string, code: string): ActionRecord {
  return {
    namespace: NS,
    name,
    version: '0.0.1',
    publish: false,
    annotations: [],
    updated: Date.now(),
    exec: { kind: 'nodejs:20', code, binary: false },
    parameters: [],
    limits: defaultLimits(),
  };
}

function rule(name: string, trigger: string, actionName: string, batch: RuleBatch, filter?: Record<string, unknown>): RuleRecord {
  return {
    namespace: NS,
    name,
    version: '0.0.1',
    publish: false,
    annotations: [],
    updated: Date.now(),
    status: 'active',
    trigger: { path: NS, name: trigger },
    action: { path: NS, name: actionName },
    batch,
    ...(filter ? { filter } : {}),
  };
}

for (const backendKind of backends) {
  backendKind.describe(`batched rules on ${backendKind.name}`, () => {
    let backend: Backend;
    let entities: EntityStore;
    let activations: ActivationStore;
    let runtime: ProcessRuntime;
    const stoppable: Array<{ stop(): Promise<void> }> = [];

    beforeEach(async () => {
      backend = await backendKind.open();
      entities = await EntityStore.open(backend.store);
      activations = await KeyValueActivationStore.open(backend.store);
      runtime = new ProcessRuntime({ prewarm: [] });
      await runtime.start();
      await entities.put('triggers', { namespace: NS, name: 'readings', version: '0.0.1', publish: false, annotations: [], updated: 1, parameters: [{ key: 'site', value: 'north' }], limits: {} });
    });

    afterEach(async () => {
      for (const part of stoppable.splice(0).reverse()) await part.stop();
      await runtime.stop();
      await backend.close();
    });

    async function startEngine(options: Partial<RuleEngineOptions> = {}, bus = backend.bus, store = backend.store): Promise<RuleEngine> {
      const engine = new RuleEngine({ bus, store, log: silentLogger(), ...options });
      await engine.start();
      stoppable.push(engine);
      return engine;
    }

    async function startInvoker(maxDeliveries = 5): Promise<Invoker> {
      const invoker = new Invoker({ bus: backend.bus, store: backend.store, runtime, log: silentLogger(), maxDeliveries });
      await invoker.start();
      stoppable.push(invoker);
      return invoker;
    }

    async function fire(data: unknown): Promise<CloudEvent> {
      const event = createCloudEvent({ namespace: NS, trigger: 'readings', data, id: randomId(8) });
      await backend.bus.publish(Subjects.event(NS, 'readings'), encodeJson(event), { msgId: event.id });
      return event;
    }

    async function records(name: string, atLeast: number): Promise<ActivationRecord[]> {
      return eventually(async () => {
        const list = await activations.list(NS, { name, limit: 100 });
        return list.length >= atLeast && list;
      }, `${atLeast} activations of ${name}`, 15_000, PLATFORM_WAIT);
    }

    it('closes a batch at its size: one activation per batch, its record listing the events', async () => {
      await entities.put('actions', action('collect', COLLECT));
      await entities.put('rules', rule('batched', 'readings', 'collect', { size: 5, windowMs: 60_000 }));
      await startInvoker();
      const engine = await startEngine();

      const events: CloudEvent[] = [];
      for (let i = 0; i < 10; i++) events.push(await fire({ n: i }));

      const batches = (await records('collect', 2)).sort((a, b) => a.start - b.start);
      const ran = batches.flatMap((record) => (record.response.result as { ids: string[] }).ids);
      expect(ran.sort()).toEqual(events.map((e) => e.id).sort());
      for (const record of batches) {
        expect(record.response).toMatchObject({ success: true, result: { count: 5, site: 'north' } });
        expect(record.eventIds).toEqual((record.response.result as { ids: string[] }).ids);
      }
      await eventually(async () => engine.metrics().events === 10, 'every event acked');
      expect(engine.metrics()).toMatchObject({ batches: 2, heldEvents: 0 });
    });

    it('closes a batch at its window with what arrived, and applies the filter to each event first', async () => {
      await entities.put('actions', action('collect', COLLECT));
      await entities.put('rules', rule('hot', 'readings', 'collect', { size: 1000, windowMs: 300 }, { 'data.temperature': { $gt: 30 } }));
      await startInvoker();
      await startEngine();

      const hot = [await fire({ temperature: 35 }), await fire({ temperature: 41 })];
      await fire({ temperature: 12 });

      const [batch] = await records('collect', 1);
      expect(batch!.eventIds!.sort()).toEqual(hot.map((e) => e.id).sort());
      expect(batch!.response.result).toMatchObject({ count: 2 });
      // The filtered-out event's trigger record says why it ran nothing.
      const fires = await activations.list(NS, { name: 'readings', limit: 10 });
      expect(fires).toHaveLength(3);
      expect(fires.map((f) => JSON.parse(f.logs[0]!) as Record<string, unknown>)).toEqual(
        expect.arrayContaining([expect.objectContaining({ skipped: 'filter did not match' }), expect.objectContaining({ batched: true })]),
      );
    });

    it('retries a failing batch whole, then dead-letters it whole with the reason', async () => {
      await entities.put('actions', action('sink', FAIL));
      await entities.put('rules', rule('to-sink', 'readings', 'sink', { size: 3, windowMs: 60_000 }));
      const dead: BusMessage[] = [];
      const deadLetters = await backend.bus.consume({ durable: `dead-${randomId(4)}`, filter: Subjects.allDeadLetters, maxInFlight: 1 }, async (message) => {
        dead.push(message);
        message.ack();
      });
      stoppable.push(deadLetters);
      await startInvoker(2);
      await startEngine();

      const events = [await fire({ n: 1 }), await fire({ n: 2 }), await fire({ n: 3 })];

      await eventually(async () => dead.length >= 1, 'the batch in the dead letters');
      expect(dead).toHaveLength(1);
      expect(dead[0]!.subject).toBe(Subjects.deadLetter('invoke', NS, 'sink'));
      expect(dead[0]!.headers[DeadLetterHeaders.reason]).toMatch(/^batch of 3 events failed 2 times: application error: sink down for 3 events/);
      const invocation = decodeJson<InvocationMessage>(dead[0]!.data);
      expect((invocation.params.events as CloudEvent[]).map((e) => e.id)).toEqual(events.map((e) => e.id));
      // Its last run is on record, as an ordinary failed activation.
      const [record] = await records('sink', 1);
      expect(record).toMatchObject({ activationId: invocation.activationId, eventIds: events.map((e) => e.id), response: { success: false } });
    });

    it('runs a batch again whole when the invoker is stopped in the middle of it', async () => {
      // The first run of the batch hangs until the runtime stops; the run after the restart answers.
      const marker = join(tmpdir(), `kindling-batch-${randomId(4)}`);
      const code = `const fs = require('node:fs');
        async function main(params) {
          const first = !fs.existsSync(${JSON.stringify(marker)});
          fs.appendFileSync(${JSON.stringify(marker)}, 'run\\n');
          if (first) await new Promise((resolve) => setTimeout(resolve, 60000));
          return { count: params.events.length, ids: params.events.map((e) => e.id) };
        }`;
      await entities.put('actions', action('slow', code));
      await entities.put('rules', rule('batched', 'readings', 'slow', { size: 3, windowMs: 60_000 }));
      const invoker = await startInvoker();
      const engine = await startEngine();
      try {
        const events = [await fire({ n: 1 }), await fire({ n: 2 }), await fire({ n: 3 })];
        await eventually(async () => existsSync(marker), 'the batch to start running');
        await Promise.all([runtime.stop(), invoker.stop()]);
        expect(await activations.list(NS, { name: 'slow' })).toEqual([]);
        // The events were acked once their batch was durable: the batch, not they, comes back.
        expect(engine.metrics()).toMatchObject({ events: 3, batches: 1, heldEvents: 0 });

        runtime = new ProcessRuntime({ prewarm: [] });
        await runtime.start();
        await startInvoker();
        const [record] = await records('slow', 1);
        expect(record!.eventIds).toEqual(events.map((e) => e.id));
        expect(record!.response.result).toMatchObject({ count: 3 });
        expect(readFileSync(marker, 'utf8')).toBe('run\nrun\n');
      } finally {
        rmSync(marker, { force: true });
      }
    });

    if (backendKind.name === 'NATS JetStream') {
      it('loses nothing when the rule engine is killed with a batch open: the events come back and run', async () => {
        await entities.put('actions', action('collect', COLLECT));
        await entities.put('rules', rule('batched', 'readings', 'collect', { size: 1000, windowMs: 1500 }));
        await startInvoker();
        // The engine to kill has a connection of its own: closing it is the process dying.
        const doomed = await backend.connectAgain!();
        const victim = new RuleEngine({ bus: doomed.bus, store: doomed.store, log: silentLogger(), ackWaitMs: 1000 });
        await victim.start();

        const events = [await fire({ n: 1 }), await fire({ n: 2 }), await fire({ n: 3 })];
        await eventually(async () => victim.metrics().heldEvents === 3, 'the events held in an open batch');
        await doomed.close();
        await victim.stop();
        expect(victim.metrics()).toMatchObject({ batches: 0, events: 0 });

        await startEngine({ ackWaitMs: 1000 });
        const [batch] = await records('collect', 1);
        expect(batch!.eventIds!.sort()).toEqual(events.map((e) => e.id).sort());
      });
    }
  });
}

describe('batch activations through the OpenWhisk API', () => {
  const fixture = new PlatformFixture('embedded');

  afterEach(async () => {
    await fixture.dispose();
  });

  it('are listed and read by the openwhisk client as ordinary activations', async () => {
    const platform = await fixture.start();
    const ow = openwhiskClient(fixture.platform.apiUrl, platform.guestAuth);
    await ow.actions.create({ name: 'collect', action: COLLECT, kind: 'nodejs:20' });
    await ow.triggers.create({ name: 'readings' });
    const response = await fetch(`${fixture.platform.apiUrl}/api/v1/namespaces/_/rules/batched`, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from(platform.guestAuth).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ trigger: 'readings', action: 'collect', batch: { size: 3, windowMs: 60_000 } }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ batch: { size: 3, windowMs: 60_000 } });

    for (let n = 0; n < 3; n++) await ow.triggers.invoke({ name: 'readings', params: { n } });

    const [listed] = await eventually(async () => {
      const list = (await ow.activations.list({ name: 'collect', docs: true })) as unknown as ActivationRecord[];
      return list.length > 0 && list;
    }, 'the batch activation', 15_000, PLATFORM_WAIT);
    expect(listed!.eventIds).toHaveLength(3);
    const got = (await ow.activations.get({ name: listed!.activationId })) as unknown as ActivationRecord;
    expect(got.response).toMatchObject({ success: true, result: { count: 3, data: expect.arrayContaining([{ n: 0 }, { n: 1 }, { n: 2 }]) } });
  });

  it('refuses a batch out of bounds, naming the field', async () => {
    const platform = await fixture.start();
    const ow = openwhiskClient(fixture.platform.apiUrl, platform.guestAuth);
    await ow.actions.create({ name: 'collect', action: COLLECT, kind: 'nodejs:20' });
    await ow.triggers.create({ name: 'readings' });
    const response = await fetch(`${fixture.platform.apiUrl}/api/v1/namespaces/_/rules/batched`, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from(platform.guestAuth).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ trigger: 'readings', action: 'collect', batch: { size: 20_000, windowMs: 100 } }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('batch.size');
  });
});
