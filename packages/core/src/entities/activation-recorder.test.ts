import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import { randomActivationId } from '../ids.js';
import type { ActivationRecord } from '../model/activation.js';
import { ActivationRecorder } from './activation-recorder.js';
import type { ActivationStore } from './activation-store.js';
import { KeyValueActivationStore } from './key-value-activation-store.js';

/** The write-behind recorder on a real (embedded) store: grouped writes, each durable before its promise resolves. */
describe('ActivationRecorder', () => {
  let backend: EmbeddedBackend;
  let store: ActivationStore;

  beforeEach(async () => {
    backend = await openEmbeddedBackend({});
    store = await KeyValueActivationStore.open(backend.store);
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

  it('writes the records of one turn in one group, and fails that group alone when its write fails', async () => {
    const groups: number[] = [];
    let failNext = false;
    const recorder = new ActivationRecorder({
      putMany: (records) => {
        groups.push(records.length);
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('store down'));
        }
        return store.putMany(records);
      },
    });
    await Promise.all([recorder.record(record('one')), recorder.record(record('two'))]);
    failNext = true;
    const failed = [record('three'), record('four')];
    const outcomes = await Promise.allSettled(failed.map((r) => recorder.record(r)));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    const after = record('five');
    await recorder.record(after);
    expect(groups).toEqual([2, 2, 1]);
    expect(await store.get('guest', failed[0]!.activationId)).toBeNull();
    expect(await store.get('guest', after.activationId)).toEqual(after);
  });
});
