#!/usr/bin/env node
// GitHub webhook ingest: a signed delivery over HTTP on loopback to the real API (`createApi`),
// routed to a github/webhook feed of a core FeedHost, verified (X-Hub-Signature-256), fired and
// durable on the bus, then answered 202. A delivery counts once its 202 is back at the client.
// The client runs in a process of its own (as GitHub would be), on a kept-alive connection pool,
// so that the CPU this process uses per delivery is the platform's alone.
//
//   latency      one delivery at a time: p50/p99 for 25 KB and 1 MB payloads (a real push payload
//                with more commits; 1 MB = 1,000,000 bytes, which still fits one bus message).
//   throughput   25 KB deliveries, CONCURRENCY in flight, for up to SECONDS: deliveries/s.
//
// Backends: NATS JetStream (file storage, a scope of its own, deleted at the end) and the embedded
// bus in memory; GITHUB_BENCH_BACKENDS=nats or =embedded for one. Each run is bounded in count
// and time. Needs `npm run build` (and NATS for the nats backend).
//   node bench/github.bench.js
//   GITHUB_BENCH_CONCURRENCY=64 GITHUB_BENCH_SECONDS=10 node bench/github.bench.js
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { silentLogger } from '../packages/core/dist/index.js';
import { FeedHost, ProviderRegistry } from '../packages/host/dist/index.js';
import { createApi, NamespaceStore } from '../packages/api/dist/index.js';
import { openEmbeddedBackend } from '../packages/embedded/dist/index.js';
import { connectNatsBackend } from '../packages/nats/dist/index.js';
import { githubProvider } from '../providers/github/dist/index.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const BACKENDS = (process.env.GITHUB_BENCH_BACKENDS ?? 'nats,embedded').split(',');
const CONCURRENCY = Number(process.env.GITHUB_BENCH_CONCURRENCY ?? 32);
const SECONDS = Number(process.env.GITHUB_BENCH_SECONDS ?? 5);
const LATENCY_COUNT = { small: Number(process.env.GITHUB_BENCH_COUNT ?? 3000), large: 200 };
const MAX_PHASE_SECONDS = 30;
const SMALL = 25 * 1024;
const LARGE = 1_000_000;
const KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
const log = silentLogger();

/**
 * A real push payload (from @octokit/webhooks-examples) grown to `bytes` bytes of JSON with more
 * commits like its own, the way a push of many commits grows.
 */
function pushPayload(bytes) {
  const definitions = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('@octokit/webhooks-examples'), 'utf8'));
  const example = definitions.find((d) => d.name === 'push').examples.find((e) => e.commits.length > 0);
  const [commit] = example.commits;
  const commitBytes = JSON.stringify(commit).length + 1;
  const count = Math.max(1, Math.floor((bytes - JSON.stringify(example).length) / commitBytes));
  const payload = { ...example, commits: Array.from({ length: count }, (_, i) => ({ ...commit, id: i.toString(16).padStart(40, '0') })) };
  const missing = bytes - JSON.stringify(payload).length;
  if (missing > 0) payload.commits[0] = { ...payload.commits[0], message: payload.commits[0].message + ' '.repeat(missing) };
  return JSON.stringify(payload);
}

// The client: signs once per body (the signature covers the body only), sends each delivery with
// a fresh X-GitHub-Delivery (so that none is absorbed as a duplicate), and times each one.
const CLIENT = `
const http = require('node:http');
const { createHmac, randomUUID } = require('node:crypto');

async function run({ url, secret, body, count, concurrency, seconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const signature = 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
  const target = new URL(url);
  const deliver = () => new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const headers = {
      'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-github-event': 'push',
      'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature,
    };
    const request = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    request.on('error', reject);
    request.end(body);
  });
  const deadline = Date.now() + seconds * 1000;
  const latencies = [];
  let sent = 0;
  let failed = 0;
  const started = Date.now();
  const lane = async () => {
    while (sent < count && Date.now() < deadline) {
      sent++;
      const { status, ms } = await deliver();
      if (status === 202) latencies.push(ms);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  agent.destroy();
  return { latencies, failed, seconds: (Date.now() - started) / 1000 };
}

let input = '';
process.stdin.on('data', (chunk) => (input += chunk)).on('end', () => {
  run(JSON.parse(input)).then(
    (result) => process.stdout.write(JSON.stringify(result)),
    (error) => process.stdout.write(JSON.stringify({ error: error.message })),
  );
});
`;

function runClient(workerData) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin.end(JSON.stringify(workerData));
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('error', reject);
    child.once('exit', () => {
      try {
        const result = JSON.parse(out);
        if (result.error) reject(new Error(result.error));
        else resolve(result);
      } catch {
        reject(new Error(`the client exited without a result: ${out.slice(0, 200)}`));
      }
    });
  });
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
const ms = (n) => Math.round(n * 100) / 100;

/** Runs the client and reports, with the latencies, the CPU this process (API, host, bus) spent per delivery. */
async function measured(workerData) {
  const cpu = process.cpuUsage();
  const result = await runClient(workerData);
  const used = process.cpuUsage(cpu);
  const sorted = [...result.latencies].sort((a, b) => a - b);
  return JSON.stringify({
    deliveries: sorted.length,
    failed: result.failed,
    perSecond: Math.round(sorted.length / result.seconds),
    p50ms: ms(percentile(sorted, 50)),
    p99ms: ms(percentile(sorted, 99)),
    maxms: ms(sorted.at(-1) ?? NaN),
    serverCpuMsPerDelivery: ms((used.user + used.system) / 1000 / Math.max(1, sorted.length + result.failed)),
  });
}

async function openBackend(kind) {
  if (kind === 'embedded') return { backend: await openEmbeddedBackend({ log }), label: 'embedded bus and store, in memory' };
  const scope = `bench-github-${process.pid}-${Date.now().toString(36)}`;
  return { backend: await connectNatsBackend({ servers: NATS_URL, scope, log }), label: `NATS JetStream ${NATS_URL}, scope ${scope}`, scoped: true };
}

async function api(baseUrl, method, path, body) {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { authorization: `Basic ${Buffer.from(KEY).toString('base64')}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function benchBackend(kind) {
  const { backend, label, scoped } = await openBackend(kind);
  const registry = new ProviderRegistry([githubProvider]);
  const host = new FeedHost({ store: backend.store, bus: backend.bus, registry, log, publicUrl: 'https://kindling.example' });
  let server;
  try {
    await host.start();
    await (await NamespaceStore.open(backend.store)).ensureNamespace('guest', KEY);
    server = await createApi({ store: backend.store, bus: backend.bus, registry, log, hooks: host, publicUrl: 'https://kindling.example' });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${server.server.address().port}`;
    await api(baseUrl, 'PUT', '/api/v1/namespaces/guest/triggers/bench-pushes', {});
    const feed = await api(baseUrl, 'PUT', '/api/v1/namespaces/guest/feeds/bench-pushes', { provider: 'github', kind: 'webhook', params: { repository: 'octo/hello', events: 'push' } });
    let secret;
    for (let i = 0; i < 100 && typeof secret !== 'string'; i++) {
      secret = (await api(baseUrl, 'GET', '/api/v1/namespaces/guest/feeds/bench-pushes')).details?.secret ?? undefined;
      if (typeof secret !== 'string') await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const url = `${baseUrl}/hooks/github/${feed.id}`;
    const small = pushPayload(SMALL);
    const large = pushPayload(LARGE);
    console.log(`backend: ${label}`);
    // Warm-up: JIT, connection pool, the bus's first writes.
    await runClient({ url, secret, body: small, count: 500, concurrency: 8, seconds: 5 });
    console.log('latency 25 KB, one at a time', await measured({ url, secret, body: small, count: LATENCY_COUNT.small, concurrency: 1, seconds: MAX_PHASE_SECONDS }));
    console.log('latency 1 MB, one at a time', await measured({ url, secret, body: large, count: LATENCY_COUNT.large, concurrency: 1, seconds: MAX_PHASE_SECONDS }));
    console.log(`throughput 25 KB, ${CONCURRENCY} in flight`, await measured({ url, secret, body: small, count: 1_000_000, concurrency: CONCURRENCY, seconds: Math.min(SECONDS, MAX_PHASE_SECONDS) }));
  } finally {
    await server?.close();
    await host.stop();
    if (scoped) await backend.destroyScope().catch(() => undefined);
    await backend.close();
  }
}

console.log(`github webhook ingest: verify + durable publish + 202, over HTTP on loopback; goals p99 ≤ 10 ms at 25 KB, ≥ 3,000 deliveries/s`);
for (const kind of BACKENDS) {
  try {
    await benchBackend(kind);
  } catch (error) {
    console.log(`backend ${kind}: ${error.message}`);
    process.exitCode = 1;
  }
}
