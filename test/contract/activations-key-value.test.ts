import { describe } from '@jest/globals';
import { KeyValueActivationStore, silentLogger, type ActivationStore } from '@kindling/core';
import { openEmbeddedBackend } from '@kindling/embedded';
import { connectNatsBackend } from '@kindling/nats';
import { describeWithNats, NATS_URL } from '@kindling/test-support';
import { activationStoreContract } from './activation-store-contract.js';

/** The store closes the backend it was opened on, so that every test leaves nothing behind. */
function closingBackend(store: ActivationStore, close: () => Promise<void>): ActivationStore {
  return Object.assign(Object.create(store) as ActivationStore, {
    async close() {
      await store.close();
      await close();
    },
  });
}

describe('bounded key-value activation store on the embedded store', () => {
  activationStoreContract(async (retention) => {
    const backend = await openEmbeddedBackend({ log: silentLogger() });
    return closingBackend(await KeyValueActivationStore.open(backend.store, retention), () => backend.close());
  });
});

const run = `act-${process.pid}-${Date.now().toString(36)}`;
let scopes = 0;
const describeNats = await describeWithNats();

describeNats('bounded key-value activation store on NATS JetStream KV', () => {
  activationStoreContract(async (retention) => {
    const backend = await connectNatsBackend({ servers: NATS_URL, scope: `${run}-${++scopes}`, log: silentLogger() });
    return closingBackend(await KeyValueActivationStore.open(backend.store, retention), async () => {
      await backend.destroyScope();
      await backend.close();
    });
  });
});
