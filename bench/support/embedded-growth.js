#!/usr/bin/env node
// One point of the embedded backend's growth figure, in a process of its own so that its memory
// is its own: publishes COUNT events (256 B, a msgId each, 1024 in flight) on a fresh data
// directory while one durable consumer (256 handlers in flight) acks them, then prints one JSON
// line: publish and end-to-end rates, resident memory at the end and at its peak, database size.
// Usage: node bench/support/embedded-growth.js COUNT DATA_DIR [PATH_TO_EMBEDDED_INDEX_JS]
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Subjects, silentLogger } from '../../packages/core/dist/index.js';

const [count, dataDir, backendModule = '../../packages/embedded/dist/index.js'] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const { openEmbeddedBackend } = await import(backendModule);
const IN_FLIGHT = 1024;
const payload = new Uint8Array(256).fill(120);
const backend = await openEmbeddedBackend({ dataDir, log: silentLogger() });
let consumed = 0;
let allConsumed;
const done = new Promise((resolve) => (allConsumed = resolve));
await backend.bus.consume({ durable: 'growth', filter: Subjects.allEvents, maxInFlight: 256 }, async (m) => {
  m.ack();
  if (++consumed === count) allConsumed();
});
const started = performance.now();
let next = 0;
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
const lane = async () => {
  while (next < count) {
    const i = next++;
    await backend.bus.publish(Subjects.event('bench', `t${i % 16}`), payload, { msgId: `g-${i}` });
  }
};
await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
const published = performance.now();
await done;
const finished = performance.now();
globalThis.gc?.();
const rss = process.memoryUsage().rss;
clearInterval(sampler);
peakRss = Math.max(peakRss, rss);
await backend.close();
const databaseFile = join(dataDir, 'kindling.db');
let dbBytes = null;
try {
  dbBytes = statSync(databaseFile).size;
} catch {
  // The record-log backend keeps no database file.
}
console.log(JSON.stringify({ count, publishRate: count / ((published - started) / 1000), endToEndRate: count / ((finished - started) / 1000), rssMb: rss / 2 ** 20, peakRssMb: peakRss / 2 ** 20, dbMb: dbBytes === null ? null : dbBytes / 2 ** 20 }));
