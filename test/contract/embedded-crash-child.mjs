// Publishes events and writes key-value entries on the embedded backend as fast as it can, and
// prints the number of each one acknowledged ("p<i>" for a publish, "k<i>" for a put), until it
// is killed. Run by embedded-crash.test.ts, which kills it with SIGKILL mid-stream.
import { encodeJson, silentLogger, Subjects } from '../../packages/core/dist/index.js';
import { openEmbeddedBackend } from '../../packages/embedded/dist/index.js';

const backend = await openEmbeddedBackend({ dataDir: process.argv[2], log: silentLogger() });
const bucket = await backend.store.bucket('kindling_cursors');
const IN_FLIGHT = 128;
let next = 0;
const lane = async () => {
  for (;;) {
    const i = next++;
    await backend.bus.publish(Subjects.event('guest', 'crash'), encodeJson({ i }), { msgId: `crash-${i}` });
    process.stdout.write(`p${i}\n`);
    await bucket.put(`feed.k${i}`, encodeJson({ i }));
    process.stdout.write(`k${i}\n`);
  }
};
process.stdout.write('ready\n');
await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
