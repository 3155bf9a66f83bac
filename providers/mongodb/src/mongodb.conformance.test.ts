import { describeProviderConformance } from '@kindling/provider-testkit';
import { createMongoProvider } from './mongo-provider.js';
import { FakeReplicaSet } from './testing/fake-replica-set.js';

/**
 * The mongodb provider against the conformance kit, through its injectable change source: the
 * package's TEST DOUBLE of a replica set's change streams (no MongoDB server runs on the machines
 * this project is built on). An event is a document inserted in the watched collection, carrying
 * the kit's token; the URI holds a password, which the kit looks for in every log line.
 */
const rs = new FakeReplicaSet();

describeProviderConformance({
  provider: createMongoProvider({ connect: rs.connect }),
  kind: 'changes',
  params: { uri: 'mongodb://app:kit-Pw-4f9d2c@127.0.0.1:27017/?replicaSet=rs0', database: 'shop', collection: 'orders', operationTypes: 'insert' },
  source: {
    async emit({ token }) {
      rs.insert('shop', 'orders', { token, total: 12.5 });
    },
  },
});
