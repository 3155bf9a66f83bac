#!/usr/bin/env node
// Feeds at scale through the real platform: `kindling up` as a user starts it (child processes,
// built CLI), then interval alarms (1 minute, phases spread by feed id) created through the API's
// OpenWhisk feed action, 32 requests in flight. Two set-ups:
//   embedded — one `kindling up` on the embedded backend;
//   nats     — a private nats-server (JetStream, random loopback port), one process with the api,
//              rules and invoker roles, and two provider hosts (`--roles providers`).
// Reported per size (10,000 and 100,000 feeds): trigger and feed creation rate, time until every
// feed runs (from the hosts' `feeds running` log lines), CPU (% of one core) and RSS per host over
// a window with no rules (fires included: 1-minute alarms spread over the minute), lateness from
// scheduled time to durable event p50/p99 (NATS: the stream's stored timestamp; embedded: the
// publish time in the bus log) and skipped slots (a feed whose consecutive events are more than
// one interval apart: must be 0), restart-to-all-running, deletion rate; on NATS, one of the two
// hosts killed (SIGKILL) and the takeover gap until the other runs every feed. Bounded: every wait
// has a deadline; everything it started is stopped and removed.
//
//   node bench/feeds-at-scale.bench.js                   # both backends, 10k and 100k, 3-minute window
//   node bench/feeds-at-scale.bench.js --quick           # 70 s window, 10k only
//   node bench/feeds-at-scale.bench.js nats 100000       # one set-up, one size
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateAuthKey } from '@kindling/api';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const BACKENDS = args.filter((a) => a === 'embedded' || a === 'nats');
const SIZES = args.filter((a) => /^\d+$/.test(a)).map(Number);
const WINDOW_S = Number(process.env.FEEDS_BENCH_WINDOW_S ?? (QUICK ? 70 : 180));
const IN_FLIGHT = 32;
const PERIOD_MS = 60_000;
const BIN = fileURLToPath(new URL('../packages/cli/bin/kindling.js', import.meta.url));
const TICKS_PER_S = 100;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const percentile = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

async function until(probe, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** CPU seconds (user + system) and resident MB of a process, from /proc. */
async function usage(pid) {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  const cpuS = (Number(stat[11]) + Number(stat[12])) / TICKS_PER_S;
  const rss = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return { cpuS, rssMb: rss ? Number(rss[1]) / 1024 : NaN };
}

/** One `kindling up` child: its API URL (if it runs the api role) and the feeds its host runs. */
class PlatformProcess {
  running = 0;
  exited;

  constructor(name, argv, env) {
    this.name = name;
    this.child = spawn(process.execPath, [BIN, '--json', ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'exit');
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'feeds running' && typeof entry.running === 'number') this.running = entry.running;
        else if (entry.level >= 50) console.error(`  [${name}] ${entry.msg}${entry.err ? `: ${entry.err}` : ''}`);
      } catch {
        // A line that is not a log entry.
      }
    });
  }

  async announced() {
    let text = '';
    for await (const chunk of this.child.stdout) {
      text += chunk;
      try {
        return JSON.parse(text);
      } catch {
        // Not the whole object yet.
      }
    }
    throw new Error(`${this.name} exited before announcing itself`);
  }

  usage() {
    return usage(this.child.pid);
  }

  async stop(signal = 'SIGTERM') {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The REST API through fetch (keep-alive), as the OpenWhisk client calls it. */
function apiClient(apiUrl, auth) {
  const authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  return async (method, path, body) => {
    const response = await fetch(`${apiUrl}/api/v1${path}`, {
      method,
      headers: { authorization, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** Runs `task(i)` for i in [0, n) with IN_FLIGHT at once; returns the rate per second. */
async function rateOf(n, task) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

async function startNatsServer(dir) {
  const port = await freePort();
  const server = spawn('/usr/sbin/nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'jetstream')], { stdio: 'ignore' });
  const exited = once(server, 'exit');
  const url = `nats://127.0.0.1:${port}`;
  const { connect } = await import('nats');
  let nc;
  await until(async () => (nc = await connect({ servers: url }).catch(() => undefined)), 'nats-server', 10_000);
  return {
    url,
    nc,
    async stop() {
      await nc.close();
      server.kill('SIGTERM');
      await exited;
    },
  };
}

/** Collects the trigger events stored on NATS from now on: scheduled time (event.time) and stored time. */
async function natsEvents(nc) {
  const { AckPolicy, DeliverPolicy } = await import('nats');
  const jsm = await nc.jetstreamManager();
  const streams = await jsm.streams.list().next();
  const stream = streams.find((s) => s.config.subjects.some((subject) => subject.includes('events')));
  if (!stream) throw new Error('no events stream on the private NATS');
  const samples = [];
  const consumer = await nc.jetstream().consumers.get(stream.config.name, { deliver_policy: DeliverPolicy.New, ack_policy: AckPolicy.None });
  const messages = await consumer.consume();
  const done = (async () => {
    for await (const message of messages) {
      const event = JSON.parse(Buffer.from(message.data).toString('utf8'));
      samples.push({ feed: event.source, scheduled: Date.parse(event.time), stored: Number(message.info.timestampNanos / 1_000_000) });
    }
  })();
  return {
    samples,
    async stop() {
      await messages.close();
      await done;
    },
  };
}

/** The trigger events the embedded bus logged between `from` and `to`. */
async function embeddedEvents(dataDir, from, to) {
  const samples = [];
  const lines = createInterface({ input: createReadStream(join(dataDir, 'embedded', 'bus.log')) });
  for await (const line of lines) {
    if (!line.includes('"t":"msg"') || !line.includes('kindling.events')) continue;
    const record = JSON.parse(line);
    if (record.ts < from || record.ts > to) continue;
    const event = JSON.parse(Buffer.from(record.d, 'base64').toString('utf8'));
    samples.push({ feed: event.source, scheduled: Date.parse(event.time), stored: record.ts });
  }
  return samples;
}

/** Lateness percentiles and skipped slots of events; `skipped` counts missing slots between a feed's events. */
function lateness(samples, feeds) {
  const late = samples.map((s) => s.stored - s.scheduled).sort((a, b) => a - b);
  const byFeed = new Map();
  for (const s of samples) {
    const times = byFeed.get(s.feed) ?? [];
    times.push(s.scheduled);
    byFeed.set(s.feed, times);
  }
  let skipped = 0;
  for (const times of byFeed.values()) {
    times.sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) skipped += Math.max(0, Math.round((times[i] - times[i - 1]) / PERIOD_MS) - 1);
  }
  const silent = WINDOW_S * 1000 > PERIOD_MS + 5000 ? feeds - byFeed.size : 0;
  return { events: samples.length, p50: percentile(late, 50), p99: percentile(late, 99), max: late.at(-1) ?? NaN, skipped: skipped + silent };
}

async function measureWindow(hosts, collect) {
  const before = await Promise.all(hosts.map((h) => h.usage()));
  const from = Date.now();
  await sleep(WINDOW_S * 1000);
  const after = await Promise.all(hosts.map((h) => h.usage()));
  const to = Date.now();
  return {
    from,
    to,
    hosts: hosts.map((h, i) => ({ name: h.name, cpuPct: ((after[i].cpuS - before[i].cpuS) / ((to - from) / 1000)) * 100, rssMb: after[i].rssMb })),
    samples: collect ? await collect() : [],
  };
}

async function run(backend, feeds, result) {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-feeds-bench-'));
  const auth = generateAuthKey();
  const env = { KINDLING_CONFIG: join(dir, 'config.json'), KINDLING_LOG_LEVEL: 'info' };
  const processes = [];
  let nats;
  const up = async (name, extra) => {
    const port = extra.includes('api') || backend === 'embedded' ? await freePort() : 0;
    const proc = new PlatformProcess(name, ['--auth', auth, 'up', '--port', String(port), '--no-mqtt', '--data-dir', join(dir, name), ...extra], env);
    processes.push(proc);
    return { proc, announced: await proc.announced() };
  };
  try {
    let api;
    let hosts;
    if (backend === 'embedded') {
      const { proc, announced } = await up('platform', []);
      api = apiClient(announced.apiUrl, auth);
      hosts = [proc];
    } else {
      nats = await startNatsServer(dir);
      const { announced } = await up('api', ['--nats', nats.url, '--roles', 'api,rules,invoker']);
      api = apiClient(announced.apiUrl, auth);
      hosts = [(await up('host-1', ['--nats', nats.url, '--roles', 'providers'])).proc, (await up('host-2', ['--nats', nats.url, '--roles', 'providers'])).proc];
    }
    const runningEverywhere = () => hosts.reduce((sum, h) => sum + h.running, 0);

    result.triggersPerS = await rateOf(feeds, (i) => api('PUT', `/namespaces/_/triggers/t${i}`, {}));
    const created = performance.now();
    result.feedsPerS = await rateOf(feeds, (i) =>
      api('POST', '/namespaces/whisk.system/actions/alarms/interval?blocking=true', { lifecycleEvent: 'CREATE', triggerName: `/_/t${i}`, authKey: auth, minutes: 1 }),
    );
    await until(async () => runningEverywhere() >= feeds, `${feeds} feeds running`, 300_000);
    result.allRunningAfterCreateS = (performance.now() - created) / 1000;
    result.load.push(load());

    const events = backend === 'nats' ? await natsEvents(nats.nc) : undefined;
    const window = await measureWindow(hosts, events && (async () => (await events.stop(), events.samples)));
    result.window = window.hosts;
    result.load.push(load());

    const listStarted = performance.now();
    const page = await api('GET', '/namespaces/_/feeds?limit=50&skip=1000&status=active&provider=alarms');
    result.listPageMs = performance.now() - listStarted;
    result.listPageSize = Array.isArray(page) ? page.length : NaN;

    // Restart: every process with a provider host stops (SIGTERM) and starts again on the same store.
    const restartStarted = performance.now();
    for (const host of hosts) await host.stop();
    const names = hosts.map((h) => h.name);
    if (backend === 'embedded') {
      result.lateness = lateness(await embeddedEvents(join(dir, 'platform'), window.from, window.to), feeds);
      const { proc, announced } = await up('platform', []);
      api = apiClient(announced.apiUrl, auth);
      hosts = [proc];
    } else {
      result.lateness = lateness(window.samples, feeds);
      hosts = [];
      for (const name of names) hosts.push((await up(name, ['--nats', nats.url, '--roles', 'providers'])).proc);
    }
    await until(async () => runningEverywhere() >= feeds, `${feeds} feeds running after the restart`, 300_000);
    result.restartToRunningS = (performance.now() - restartStarted) / 1000;

    if (backend === 'nats') {
      await until(async () => hosts.every((h) => h.running > 0), 'both hosts running feeds', 60_000);
      const [victim, survivor] = hosts;
      const killed = performance.now();
      await victim.stop('SIGKILL');
      await until(async () => survivor.running >= feeds, 'the survivor running every feed', 120_000);
      result.takeoverS = (performance.now() - killed) / 1000;
      hosts = [survivor];
    }

    const deletions = Math.min(feeds, 10_000);
    result.deletesPerS = await rateOf(deletions, (i) =>
      api('POST', '/namespaces/whisk.system/actions/alarms/interval?blocking=true', { lifecycleEvent: 'DELETE', triggerName: `/_/t${i}`, authKey: auth }),
    );
    result.deletions = deletions;
    result.load.push(load());
  } finally {
    for (const proc of processes) await proc.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return result;
}

function report(r) {
  const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  console.log(`\n${r.backend}, ${r.feeds.toLocaleString('en')} interval feeds (1 min), window ${WINDOW_S} s`);
  console.log(`  created      triggers ${f(r.triggersPerS)}/s, feeds ${f(r.feedsPerS)}/s (OpenWhisk feed action, ${IN_FLIGHT} in flight); all running ${f(r.allRunningAfterCreateS, 1)} s after the first CREATE`);
  for (const h of r.window) console.log(`  ${h.name.padEnd(12)} CPU ${f(h.cpuPct, 1)} % of a core, RSS ${f(h.rssMb)} MB`);
  const l = r.lateness ?? {};
  console.log(`  lateness     scheduled → durable: ${l.events} events, p50 ${f(l.p50)} ms, p99 ${f(l.p99)} ms, max ${f(l.max)} ms; skipped ${l.skipped}`);
  console.log(`  feed list    one page of ${r.listPageSize} (status, provider filters, skip 1000): ${f(r.listPageMs, 1)} ms`);
  console.log(`  restart      SIGTERM → every feed running again: ${f(r.restartToRunningS, 1)} s`);
  if (r.takeoverS !== undefined) console.log(`  takeover     one of two hosts killed → the other runs every feed: ${f(r.takeoverS, 1)} s`);
  console.log(`  deleted      ${r.deletions} feeds at ${f(r.deletesPerS)}/s`);
  console.log(`  load average ${r.load.join(' | ')}`);
}

const backends = BACKENDS.length > 0 ? BACKENDS : ['embedded', 'nats'];
const sizes = SIZES.length > 0 ? SIZES : QUICK ? [10_000] : [10_000, 100_000];
let failed = false;
for (const backend of backends) {
  for (const feeds of sizes) {
    const result = { backend, feeds, load: [] };
    try {
      report(await run(backend, feeds, result));
    } catch (error) {
      failed = true;
      console.error(`${backend} ${feeds}: ${error?.stack ?? error}\n  measured so far: ${JSON.stringify(result)}`);
    }
  }
}
process.exit(failed ? 1 : 0);
