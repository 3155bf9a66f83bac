#!/usr/bin/env node
// Resident memory of the embedded backend under a steady load, as `kindling up` carries it: RATE
// events/s (256 B, a msgId each) published on a data directory, one consumer acking them and
// publishing one invocation each (work queue), an invoker consumer acking those, and one cursor
// put per event — for SOAK_SECONDS (default 600). Prints RSS every 30 s, then the median RSS of
// the first and of the last half and the slope over the last half (MB per minute): flat memory is
// a slope near 0. Events keep their default max age of 1 hour, so the file grows; memory must not.
// Needs `npm run build`. BENCH_SOAK_SECONDS and BENCH_SOAK_RATE override the defaults.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeJson, Subjects, silentLogger } from '../packages/core/dist/index.js';
import { openEmbeddedBackend } from '../packages/embedded/dist/index.js';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 1000);
const TICK_MS = 10;
const payload = new Uint8Array(256).fill(120);
const dataDir = await mkdtemp(join(tmpdir(), 'kindling-soak-'));
const backend = await openEmbeddedBackend({ dataDir, log: silentLogger() });
const cursors = await backend.store.bucket('kindling_cursors');
let invoked = 0;
await backend.bus.consume({ durable: 'rules', filter: Subjects.allEvents, maxInFlight: 64 }, async (m) => {
  await backend.bus.publish(Subjects.invocation('soak', 'action'), m.data, { msgId: `inv-${m.seq}` });
  m.ack();
});
await backend.bus.consume({ durable: 'invoker', filter: Subjects.allInvocations, maxInFlight: 64 }, async (m) => {
  invoked++;
  m.ack();
});

console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`${RATE} events/s for ${SECONDS} s on a data directory (events kept 1 h, invocations a work queue)`);
const samples = [];
const started = performance.now();
let sent = 0;
let lastPrint = started;
while (performance.now() - started < SECONDS * 1000) {
  const due = Math.floor(((performance.now() - started) / 1000) * RATE);
  const burst = [];
  for (; sent < due; sent++) {
    const i = sent;
    burst.push(backend.bus.publish(Subjects.event('soak', 'sensor'), payload, { msgId: `e-${i}` }).then(() => cursors.put('feed.sensor', encodeJson({ i }))));
  }
  await Promise.all(burst);
  await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  const now = performance.now();
  if (now - lastPrint >= 5_000) {
    globalThis.gc?.();
    samples.push({ minute: (now - started) / 60_000, rssMb: process.memoryUsage().rss / 2 ** 20 });
    lastPrint = now;
    if (samples.length % 6 === 0) console.log(`${Math.round((now - started) / 1000)} s: ${sent} events, ${invoked} invocations run, RSS ${Math.round(samples.at(-1).rssMb)} MB`);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const half = Math.floor(samples.length / 2);
const last = samples.slice(half);
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const mx = mean(last.map((s) => s.minute));
const my = mean(last.map((s) => s.rssMb));
const slope = last.reduce((sum, s) => sum + (s.minute - mx) * (s.rssMb - my), 0) / last.reduce((sum, s) => sum + (s.minute - mx) ** 2, 0);
console.log(`events ${sent}, invocations run ${invoked}`);
console.log(`RSS median, first half: ${Math.round(median(samples.slice(0, half).map((s) => s.rssMb)))} MB; last half: ${Math.round(median(last.map((s) => s.rssMb)))} MB; max ${Math.round(Math.max(...samples.map((s) => s.rssMb)))} MB`);
console.log(`RSS slope over the last half: ${slope.toFixed(2)} MB/min`);
console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
await backend.close();
await rm(dataDir, { recursive: true, force: true });
