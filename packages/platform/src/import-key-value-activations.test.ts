import { describe, expect, it } from '@jest/globals';
import { activationIdFor, activationResponse, KeyValueActivationStore, silentLogger, type ActivationRecord } from '@kindling/core';
import { openEmbeddedBackend } from '@kindling/embedded';
import { SqliteActivationStore } from '@kindling/activations';
import { importKeyValueActivations } from './import-key-value-activations.js';

function record(namespace: string, i: number): ActivationRecord {
  const start = Date.now() - 60_000 + i;
  return {
    namespace,
    name: `a${i % 3}`,
    subject: namespace,
    activationId: activationIdFor(start, namespace, String(i)),
    start,
    response: activationResponse(0, { i }),
    logs: [`line ${i}`],
    annotations: [],
    version: '0.0.1',
    publish: false,
  };
}

describe('importKeyValueActivations', () => {
  it('moves the records an earlier Kindling kept in the key-value bucket into the activation store, and leaves the bucket empty', async () => {
    const backend = await openEmbeddedBackend({ log: silentLogger() });
    const target = new SqliteActivationStore({ file: ':memory:', retention: { maxAgeMs: 86_400_000 } });
    try {
      const old = await KeyValueActivationStore.open(backend.store);
      const records = [...Array.from({ length: 300 }, (_, i) => record('guest', i)), record('other', 1)];
      await old.putMany(records);

      expect(await importKeyValueActivations(backend.store, target, silentLogger())).toBe(301);
      expect(await target.count('guest')).toBe(300);
      expect(await target.get('other', records[300]!.activationId)).toEqual(records[300]);
      expect(await old.count('guest')).toBe(0);
      expect(await importKeyValueActivations(backend.store, target, silentLogger())).toBe(0);
    } finally {
      await target.close();
      await backend.close();
    }
  });

  it('stops after the batch in hand when asked, leaving the rest for the next start', async () => {
    const backend = await openEmbeddedBackend({ log: silentLogger() });
    const target = new SqliteActivationStore({ file: ':memory:', retention: { maxAgeMs: 86_400_000 } });
    try {
      await (await KeyValueActivationStore.open(backend.store)).putMany(Array.from({ length: 600 }, (_, i) => record('guest', i)));
      const abort = new AbortController();
      abort.abort();
      expect(await importKeyValueActivations(backend.store, target, silentLogger(), abort.signal)).toBe(0);
      expect(await importKeyValueActivations(backend.store, target, silentLogger())).toBe(600);
      expect(await target.count('guest')).toBe(600);
    } finally {
      await target.close();
      await backend.close();
    }
  });
});
