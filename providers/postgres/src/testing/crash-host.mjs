// A provider host in a process of its own, for the crash test: it runs the postgres provider
// from the built packages on the embedded backend in the data directory given as argument, says
// "ready" once started and prints a "." for each event the bus has made durable, so that the
// test can kill it (SIGKILL: nothing here gets to clean up) in the middle of a transaction.
import { createLogger } from '@kindling/sdk';
import { FeedHost, ProviderRegistry, openEmbeddedBackend } from '@kindling/provider-testkit';
import { pgProvider } from '@kindling/postgres';

const [dataDir] = process.argv.slice(2);
const log = createLogger({ level: process.env.KINDLING_LOG_LEVEL ?? 'warn', name: 'crash-host' });
const backend = await openEmbeddedBackend({ dataDir, log });
const bus = {
  publish: async (...args) => {
    const ack = await backend.bus.publish(...args);
    process.stdout.write('.');
    return ack;
  },
  consume: (...args) => backend.bus.consume(...args),
  notify: (...args) => backend.bus.notify(...args),
  listen: (...args) => backend.bus.listen(...args),
  close: () => backend.bus.close(),
};
const host = new FeedHost({
  store: backend.store,
  bus,
  registry: new ProviderRegistry([pgProvider]),
  log,
  publicUrl: 'http://127.0.0.1:3233',
  hostId: 'crash-host',
  leaseTtlMs: 1000,
});
await host.start();
process.stdout.write('ready\n');
