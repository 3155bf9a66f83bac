import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import { randomActivationId } from '../ids.js';
import type { ActivationRecord } from '../model/activation.js';
import { ActivationRecorder } from './activation-recorder.js';
import { ActivationStore } from './activation-store.js';

/** The write-behind recorder on a real (embedded) store: grouped writes, each durable before its promise resolves. */
describe('ActivationRecorder', () => {
  let backend: EmbeddedBackend;
  let store: ActivationStore;

  beforeEach(async () => {
    backend = await openEmbeddedBackend({});
    store = await ActivationStore.open(backend.store);
  });

  afterEach(async () => {
    await backend.close();
  });

  function record(name: string): ActivationRecord {
    return {
      namespace: 'guest',
      name,
      subject: 'guest',
      activationId: randomActivationId(),
      start: Date.now(),
      response: { status: 'success', statusCode: 0, success: true, result: {} },
      logs: [],
      annotations: [],
      version: '0.0.1',
      publish: false,
    };
  }

  it('resolves each record only once it can be read back from the store', async () => {
    const recorder = new ActivationRecorder(store);
    const records = Array.from({ length: 50 }, (_, i) => record(`a${i}`));
    await Promise.all(
      records.map(async (r) => {
        await recorder.record(r);
        expect(await store.get('guest', r.activationId)).toEqual(r);
      }),
    );
  });

  it('fails only the records whose write failed', async () => {
    let writes = 0;
    const recorder = new ActivationRecorder({
      put: (r) => (++writes === 2 ? Promise.reject(new Error('store down')) : store.put(r)),
    });
    const [first, second, third] = [record('one'), record('two'), record('three')];
    const outcomes = await Promise.allSettled([recorder.record(first), recorder.record(second), recorder.record(third)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.get('guest', second.activationId)).toBeNull();
    expect(await store.get('guest', third.activationId)).toEqual(third);
  });
});
