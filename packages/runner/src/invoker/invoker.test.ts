import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Buckets,
  DeadLetterHeaders,
  KeyValueActivationStore,
  EntityStore,
  Subjects,
  decodeJson,
  encodeJson,
  encoder,
  silentLogger,
  type ActionRecord,
  type ActivationRecord,
  type BusMessage,
  type EventBus,
  type InvocationMessage,
  type KeyValueStore,
  type KvBucket,
} from '@kindling/core';
import { openEmbeddedBackend } from '@kindling/embedded';
import { connectNatsBackend } from '@kindling/nats';
import { describeWithNats, NATS_URL } from '@kindling/test-support';
import { newActivationId, nodeAction } from '../test-support/actions.js';
import { defaultProxyPath } from '../process/process-container-factory.js';
import { ProcessRuntime } from '../process/process-runtime.js';
import { Invoker } from './invoker.js';
import { runAction } from './run-action.js';

/** An action that appends its activation id to a file: side effects counted, not timed. */
const COUNTING_ACTION = `
const fs = require('node:fs');
function main(p) {
  fs.appendFileSync(p.file, process.env.__OW_ACTIVATION_ID + '\\n');
  return { greeting: p.greeting + ' ' + p.name };
}`;

interface Backend {
  bus: EventBus;
  store: KeyValueStore;
  close(): Promise<void>;
}

const natsRun = `runner-${process.pid}-${Date.now().toString(36)}`;
let natsScopes = 0;

async function openNats(): Promise<Backend> {
  const backend = await connectNatsBackend({ servers: NATS_URL, scope: `${natsRun}-${++natsScopes}`, log: silentLogger() });
  return {
    bus: backend.bus,
    store: backend.store,
    close: async () => {
      await backend.destroyScope();
      await backend.close();
    },
  };
}

const backends: Array<[string, typeof describe, () => Promise<Backend>]> = [
  ['the embedded backend', describe, () => openEmbeddedBackend({ log: silentLogger() })],
  ['NATS JetStream', await describeWithNats(), openNats],
];

describe.each(backends)('Invoker on %s', (_name, describeBackend, openBackend) => describeBackend('', () => {
  let backend: Backend;
  let runtime: ProcessRuntime;
  let invoker: Invoker;
  let entities: EntityStore;
  let activations: KeyValueActivationStore;
  let dir: string;

  beforeAll(() => {
    if (!existsSync(defaultProxyPath())) throw new Error('Build the runner first: npx tsc -b packages/runner');
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kindling-invoker-test-'));
    backend = await openBackend();
    runtime = new ProcessRuntime({ prewarm: [] });
    await runtime.start();
    entities = await EntityStore.open(backend.store);
    activations = await KeyValueActivationStore.open(backend.store);
  });

  afterEach(async () => {
    await invoker?.stop();
    await runtime.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startInvoker(maxConcurrent = 4): Promise<void> {
    invoker = new Invoker({ bus: backend.bus, store: backend.store, runtime, log: silentLogger(), maxConcurrent });
    await invoker.start();
  }

  async function putAction(action: ActionRecord): Promise<ActionRecord> {
    await entities.put('actions', action);
    return action;
  }

  function invocation(action: string, params: Record<string, unknown>, extra: Partial<InvocationMessage> = {}): InvocationMessage {
    return { activationId: newActivationId(), namespace: 'guest', action, params, requestedAt: Date.now(), subject: 'guest', ...extra };
  }

  /** Publishes an invocation and resolves with the record the invoker announces when done. */
  async function invoke(message: InvocationMessage, options: { msgId?: string } = {}): Promise<ActivationRecord> {
    const done = new Promise<ActivationRecord>((resolve) => {
      const listener = backend.bus.listen(Subjects.activationDone(message.namespace, message.activationId), (data) => {
        listener.stop();
        resolve(decodeJson<ActivationRecord>(data));
      });
    });
    await backend.bus.publish(Subjects.invocation(message.namespace, message.action), encodeJson(message), options);
    return done;
  }

  it('runs an invocation end to end: record stored in OpenWhisk shape, announced, defaults merged under the params', async () => {
    await startInvoker();
    const file = join(dir, 'runs.log');
    await putAction(nodeAction('hello', COUNTING_ACTION, { parameters: { greeting: 'Hello', name: 'nobody' } }));
    const message = invocation('hello', { name: 'World', file }, { cause: newActivationId(), eventId: 'event-1' });
    const announced = await invoke(message, { msgId: message.activationId });
    const stored = await activations.get('guest', message.activationId);
    expect(stored).toEqual(announced);
    expect(stored).toMatchObject({
      namespace: 'guest',
      name: 'hello',
      subject: 'guest',
      activationId: message.activationId,
      cause: message.cause,
      eventId: 'event-1',
      version: '0.0.1',
      publish: false,
      logs: [],
      response: { status: 'success', statusCode: 0, success: true, result: { greeting: 'Hello World' } },
    });
    expect(stored!.duration).toBe(stored!.end! - stored!.start);
    expect(stored!.annotations.map((a) => a.key)).toEqual(['limits', 'path', 'kind', 'timeout', 'initTime', 'waitTime']);
    expect(stored!.annotations).toEqual(
      expect.arrayContaining([
        { key: 'limits', value: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 } },
        { key: 'path', value: 'guest/hello' },
        { key: 'kind', value: 'nodejs:20' },
        { key: 'timeout', value: false },
      ]),
    );
    expect(readFileSync(file, 'utf8')).toBe(`${message.activationId}\n`);
  });

  it('runs no action twice for a redelivered invocation', async () => {
    await startInvoker(1);
    const file = join(dir, 'runs.log');
    await putAction(nodeAction('once', COUNTING_ACTION));
    const message = invocation('once', { greeting: 'hi', name: 'there', file });
    await invoke(message);
    // The same invocation again, as a bus redelivers it (not de-duplicated: no msgId).
    await backend.bus.publish(Subjects.invocation('guest', 'once'), encodeJson(message));
    // One invoker, one invocation at a time: once the next one is done, the redelivery was handled.
    const after = invocation('once', { greeting: 'hi', name: 'after', file });
    await invoke(after);
    expect(readFileSync(file, 'utf8')).toBe(`${message.activationId}\n${after.activationId}\n`);
  });

  it('leaves an invocation interrupted by a runtime shutdown unrecorded, and runs it once delivered again', async () => {
    await startInvoker();
    const file = join(dir, 'runs.log');
    // The first run hangs until the runtime stops; the one after the restart answers at once.
    const code = `const fs = require('node:fs');
      async function main(p) {
        const first = !fs.existsSync(p.file);
        fs.appendFileSync(p.file, 'run\\n');
        if (first) await new Promise((resolve) => setTimeout(resolve, 60000));
        return { runs: fs.readFileSync(p.file, 'utf8').trim().split('\\n').length };
      }`;
    await putAction(nodeAction('interrupted', code));
    const message = invocation('interrupted', { file });
    const done = invoke(message);
    for (let i = 0; i < 1000 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 10));
    await runtime.stop();
    await invoker.stop();
    expect(await activations.get('guest', message.activationId)).toBeNull();
    runtime = new ProcessRuntime({ prewarm: [] });
    await runtime.start();
    await startInvoker();
    const record = await done;
    expect(record.response.result).toEqual({ runs: 2 });
    expect(await activations.get('guest', message.activationId)).toEqual(record);
  });

  it('runs an updated action\'s new code from its watch-fed copy, reading no action from the store per invocation', async () => {
    const actionReads: string[] = [];
    const counting: KeyValueStore = {
      async bucket(name) {
        const bucket = await backend.store.bucket(name);
        if (name !== Buckets.actions) return bucket;
        return { ...bucket, name: bucket.name, get: (key) => (actionReads.push(key), bucket.get(key)), put: bucket.put.bind(bucket), delete: bucket.delete.bind(bucket), keys: bucket.keys.bind(bucket), watch: bucket.watch.bind(bucket) };
      },
      close: () => backend.store.close(),
    };
    await putAction(nodeAction('versioned', 'function main() { return { version: 1 }; }'));
    invoker = new Invoker({ bus: backend.bus, store: counting, runtime, log: silentLogger() });
    await invoker.start();
    expect((await invoke(invocation('versioned', {}))).response.result).toEqual({ version: 1 });

    const revision = await entities.put('actions', nodeAction('versioned', 'function main() { return { version: 2 }; }'));
    await invoker.reflects(revision);
    expect((await invoke(invocation('versioned', {}))).response.result).toEqual({ version: 2 });
    expect((await invoke(invocation('versioned', {}))).response.result).toEqual({ version: 2 });
    expect(actionReads).toEqual([]);
  });

  it('records a missing action as an application error naming it', async () => {
    await startInvoker();
    const record = await invoke(invocation('ghost', {}));
    expect(record).toMatchObject({
      name: 'ghost',
      response: { statusCode: 1, result: { error: 'Action /guest/ghost could not be found or may have been deleted.' } },
    });
  });

  it('records an action failure with its status and keeps serving', async () => {
    await startInvoker();
    await putAction(nodeAction('thrower', 'function main() { throw new Error("bad"); }'));
    await putAction(nodeAction('fine', 'function main() { return { fine: true }; }'));
    const failed = await invoke(invocation('thrower', {}));
    expect(failed.response).toMatchObject({ status: 'action developer error', result: { error: 'An error has occurred: Error: bad' } });
    const fine = await invoke(invocation('fine', {}));
    expect(fine.response.result).toEqual({ fine: true });
  });

  it('runs a sequence: each output the next input, one record per component caused by the sequence', async () => {
    await startInvoker();
    await putAction(nodeAction('inc', 'function main(p) { return { n: p.n + 1 }; }'));
    await putAction(nodeAction('times10', 'function main(p) { console.log("got", p.n); return { n: p.n * 10 }; }'));
    await putAction({ ...nodeAction('pipeline', ''), exec: { kind: 'sequence', components: ['/guest/inc', '/_/times10'] } });
    const message = invocation('pipeline', { n: 1 });
    const record = await invoke(message);
    expect(record.response).toMatchObject({ status: 'success', result: { n: 20 } });
    expect(record.logs).toHaveLength(2);
    expect(record.annotations).toEqual(
      expect.arrayContaining([
        { key: 'topmost', value: true },
        { key: 'kind', value: 'sequence' },
        { key: 'path', value: 'guest/pipeline' },
      ]),
    );
    const [first, second] = await Promise.all(record.logs.map((id) => activations.get('guest', id)));
    expect(first).toMatchObject({ name: 'inc', cause: message.activationId, response: { result: { n: 2 } } });
    expect(second).toMatchObject({ name: 'times10', cause: message.activationId, response: { result: { n: 20 } } });
    expect(second!.logs[0]).toMatch(/stdout: got 2$/);
    expect(second!.annotations).toContainEqual({ key: 'causedBy', value: 'sequence' });
    expect(record.duration).toBe(first!.duration! + second!.duration!);
  });

  it('stops a sequence at the first failing component and reports its error', async () => {
    await startInvoker();
    await putAction(nodeAction('ok', 'function main(p) { return p; }'));
    await putAction(nodeAction('fails', 'function main() { return { error: "step two failed" }; }'));
    await putAction({ ...nodeAction('chain', ''), exec: { kind: 'sequence', components: ['/guest/ok', '/guest/fails', '/guest/never'] } });
    const record = await invoke(invocation('chain', { x: 1 }));
    expect(record.response).toMatchObject({ status: 'application error', result: { error: 'step two failed' } });
    expect(record.logs).toHaveLength(2);
  });

  it('reports a missing sequence component by name', async () => {
    await startInvoker();
    await putAction({ ...nodeAction('dangling', ''), exec: { kind: 'sequence', components: ['/guest/nowhere'] } });
    const record = await invoke(invocation('dangling', {}));
    expect(record.response).toMatchObject({ statusCode: 1, result: { error: 'Sequence component /guest/nowhere does not exist.' } });
  });

  it('sends a malformed invocation to the dead letters with the reason, and keeps consuming', async () => {
    await startInvoker();
    const dead = new Promise<{ subject: string; reason: string | undefined }>((resolve) => {
      void backend.bus.consume({ durable: 'test-dead', filter: Subjects.allDeadLetters }, async (message) => {
        message.ack();
        resolve({ subject: message.subject, reason: message.headers[DeadLetterHeaders.reason] });
      });
    });
    await backend.bus.publish(Subjects.invocation('guest', 'junk'), encoder.encode('{"not": "an invocation"'));
    expect(await dead).toMatchObject({ subject: Subjects.deadLetter('invoke', 'guest', 'junk'), reason: expect.stringContaining('malformed invocation') });
    await putAction(nodeAction('after-junk', 'function main() { return { ok: 1 }; }'));
    expect((await invoke(invocation('after-junk', {}))).response.statusCode).toBe(0);
  });

  it('sends an invocation whose failure message spans lines to the dead letters once its deliveries run out', async () => {
    invoker = new Invoker({ bus: backend.bus, store: refusingActivationWrites(backend.store, 'disk full\nwhile writing block 7'), runtime, log: silentLogger(), maxDeliveries: 2, ackWaitMs: 2_000 });
    await invoker.start();
    await putAction(nodeAction('unrecordable', 'function main() { return { ok: 1 }; }'));
    const message = invocation('unrecordable', {});
    const dead = new Promise<BusMessage>((resolve) => {
      void backend.bus.consume({ durable: 'test-dead-multiline', filter: Subjects.allDeadLetters }, async (deadLetter) => {
        deadLetter.ack();
        resolve(deadLetter);
      });
    });
    await backend.bus.publish(Subjects.invocation('guest', 'unrecordable'), encodeJson(message));
    const deadLetter = await dead;
    expect(deadLetter.subject).toBe(Subjects.deadLetter('invoke', 'guest', 'unrecordable'));
    expect(deadLetter.headers[DeadLetterHeaders.reason]).toBe('disk full while writing block 7');
    expect(deadLetter.headers[DeadLetterHeaders.deliveries]).toBe('2');
    expect(decodeJson<InvocationMessage>(deadLetter.data)).toEqual(message);
  }, 60_000);
}));

/** A store whose activation records cannot be written: the invocation fails inside the platform with `reason`. */
function refusingActivationWrites(store: KeyValueStore, reason: string): KeyValueStore {
  return {
    async bucket(name) {
      const bucket = await store.bucket(name);
      if (name !== Buckets.activations) return bucket;
      const refusing: KvBucket = {
        name: bucket.name,
        get: (key) => bucket.get(key),
        put: async () => Promise.reject(new Error(reason)),
        delete: (key, options) => bucket.delete(key, options),
        keys: (prefix) => bucket.keys(prefix),
        watch: (options) => bucket.watch(options),
      };
      return refusing;
    },
    close: () => store.close(),
  };
}

describe('runAction', () => {
  it('runs an action directly on a runtime and returns its record, unstored', async () => {
    const runtime = new ProcessRuntime({ prewarm: [] });
    try {
      const action = nodeAction('direct', 'function main(p) { return { a: p.a, b: p.b }; }', { parameters: { a: 'default', b: 'default' } });
      const activationId = newActivationId();
      const record = await runAction(runtime, { action, params: { b: 'given' }, activationId });
      expect(record).toMatchObject({ activationId, namespace: 'guest', name: 'direct', response: { result: { a: 'default', b: 'given' } } });
    } finally {
      await runtime.stop();
    }
  });
});
