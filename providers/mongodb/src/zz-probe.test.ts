import { it } from '@jest/globals';
import { runConformance, formatReport } from '@kindling/provider-testkit';
import { createMongoProvider } from './mongo-provider.js';
import { FakeReplicaSet } from './testing/fake-replica-set.js';
const rs = new FakeReplicaSet();
it('probe', async () => {
  const t0 = Date.now();
  const r = await runConformance({
  provider: createMongoProvider({ connect: rs.connect }), rules: ['KIT_FIRES_TWICE'],
  kind: 'changes',
  params: { uri: 'mongodb://app:kit-Pw-4f9d2c@127.0.0.1:27017/?replicaSet=rs0', database: 'shop', collection: 'orders', operationTypes: 'insert' },
  source: { async emit({ token }) { process.stdout.write(`emit ${Date.now()-t0}\n`); rs.insert('shop', 'orders', { token, total: 12.5 }); } } });
  process.stdout.write(formatReport(r) + '\n' + JSON.stringify(r.scenarios) + '\n');
}, 120000);
