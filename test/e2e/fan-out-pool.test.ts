import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCloudEvent, encodeJson, EntityStore, randomId, silentLogger, Subjects, type EventBus, type KeyValueStore } from '@kindling/core';
import { openEmbeddedBackend } from '@kindling/embedded';
import { connectNatsBackend } from '@kindling/nats';
import { RuleEngine } from '@kindling/rules';
import { Invoker, ProcessRuntime } from '@kindling/runner';
import { describeWithNats, eventually, NATS_URL } from '@kindling/test-support';

/**
 * One trigger, three rules, three actions, under a sustained load through the rule engine, the
 * invoker and the process runtime: every event runs every action once, and the pool, with room
 * for fewer processes than the invoker's runs in flight would like, does not cold-start its way
 * through the load (the pool's counters are asserted, not the time it took).
 */
const EVENTS = 500;
const ACTIONS = ['store', 'alert', 'forward'];
const NS = 'guest';
/** Each action appends the event number it saw to its own file: runs are counted by their side effects. */
const RECORDING_ACTION = `
const fs = require('node:fs');
function main(p) {
  fs.appendFileSync(p.file, p.n + '\\n');
  return { n: p.n };
}`;

interface Backend {
  bus: EventBus;
  store: KeyValueStore;
  close(): Promise<void>;
}

const backends: Array<[string, typeof describe, () => Promise<Backend>]> = [
  ['the embedded backend', describe, () => openEmbeddedBackend({ log: silentLogger() })],
  [
    'NATS JetStream',
    await describeWithNats(),
    async () => {
      const backend = await connectNatsBackend({ servers: NATS_URL, scope: `fan-out-${randomId(4)}`, log: silentLogger() });
      return {
        bus: backend.bus,
        store: backend.store,
        close: async () => {
          await backend.destroyScope();
          await backend.close();
        },
      };
    },
  ],
];

for (const [name, describeBackend, open] of backends) {
  describeBackend(`one trigger → three actions through a shared pool, on ${name}`, () => {
    const cleanup: Array<() => Promise<void> | void> = [];

    afterEach(async () => {
      for (const step of cleanup.splice(0).reverse()) await step();
    });

    it('runs every action once per event with a bounded number of cold starts', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kindling-fan-out-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const backend = await open();
      cleanup.push(() => backend.close());
      const entities = await EntityStore.open(backend.store);
      const common = { namespace: NS, version: '0.0.1', publish: false, annotations: [], updated: Date.now() };
      await entities.put('triggers', { ...common, name: 'readings', parameters: [], limits: {} });
      for (const action of ACTIONS) {
        await entities.put('actions', {
          ...common,
          name: action,
          exec: { kind: 'nodejs:20', code: RECORDING_ACTION, binary: false },
          parameters: [{ key: 'file', value: join(dir, action) }],
          limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
        });
        await entities.put('rules', { ...common, name: `readings-${action}`, status: 'active', trigger: { path: NS, name: 'readings' }, action: { path: NS, name: action } });
      }
      // Room for four processes; the invoker keeps twelve runs in flight, four per action.
      const runtime = new ProcessRuntime({ prewarm: [], pauseGraceMs: null, capacityMemoryMb: 4 * 256 });
      const invoker = new Invoker({ bus: backend.bus, store: backend.store, runtime, maxConcurrent: 12 });
      const rules = new RuleEngine({ bus: backend.bus, store: backend.store, log: silentLogger() });
      await runtime.start();
      await invoker.start();
      await rules.start();
      cleanup.push(async () => {
        await rules.stop();
        await Promise.all([invoker.stop(), runtime.stop()]);
      });

      const publishes: Promise<unknown>[] = [];
      for (let n = 0; n < EVENTS; n++) {
        const event = createCloudEvent({ namespace: NS, trigger: 'readings', id: `reading-${n}`, data: { n } });
        publishes.push(backend.bus.publish(Subjects.event(NS, 'readings'), encodeJson(event), { msgId: event.id }));
        if (publishes.length >= 100) await Promise.all(publishes.splice(0));
      }
      await Promise.all(publishes);

      const seen = (action: string) => readFileSync(join(dir, action), 'utf8').split('\n').filter(Boolean).map(Number);
      await eventually(
        () => ACTIONS.every((action) => seen(action).length >= EVENTS) && runtime.stats().counters.inFlight === 0,
        `${EVENTS} runs of each action`,
        120_000,
        { retryErrors: true, intervalMs: 100 },
      );
      const everyEvent = Array.from({ length: EVENTS }, (_, n) => n);
      for (const action of ACTIONS) expect(seen(action).sort((a, b) => a - b)).toEqual(everyEvent);

      const { counters, actions } = runtime.stats();
      expect(counters.coldStarts).toBeLessThanOrEqual(8);
      expect(counters.evictions).toBeLessThanOrEqual(4);
      expect(counters.warmStarts).toBeGreaterThanOrEqual(ACTIONS.length * EVENTS - 8);
      expect(actions).toHaveLength(ACTIONS.length);
      for (const stats of actions) expect(stats.containers).toBeGreaterThanOrEqual(1);
    }, 180_000);
  });
}
