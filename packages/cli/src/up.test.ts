import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { runCli } from './cli.js';
import { ExitCode } from './exit-codes.js';
import type { PlatformOptions, RunningPlatform } from '@kindling/platform';
import { watchShutdownSignals, type ShutdownWatch } from './shutdown-signals.js';
import { captureIo } from './test-support/fake-api.js';

const GUEST = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';

/** A stop request the test gives by hand, in place of Ctrl-C. */
function manualShutdown() {
  let request: (signal: string) => void = () => undefined;
  const requested = new Promise<string>((resolve) => (request = resolve));
  const dispose = jest.fn();
  return { watch: (): ShutdownWatch => ({ requested, dispose }), request, dispose };
}

/**
 * `kindling up` with the platform replaced by a recording stand-in: what `up` passes to the
 * composition root, what it prints and writes, and how it stops. The real platform is
 * started by the lead's end-to-end tests.
 */
describe('kindling up', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kindling-cli-up-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function up(argv: string[], env: Record<string, string> = {}, start?: (o: PlatformOptions) => Promise<RunningPlatform>) {
    const { io, out, err } = captureIo();
    const shutdown = manualShutdown();
    const calls: PlatformOptions[] = [];
    const stop = jest.fn(async () => undefined);
    const startPlatform = start ?? (async (options: PlatformOptions) => {
      calls.push(options);
      // Stop is asked for once up is running, as a user pressing Ctrl-C would.
      setImmediate(() => shutdown.request('SIGINT'));
      return { apiUrl: `http://${options.host}:${options.port}`, roles: ['api', 'providers', 'rules', 'invoker'] as const, guestAuth: GUEST, mqttUrl: options.mqtt ? 'mqtt://127.0.0.1:1883' : undefined, stop };
    });
    const config = join(dir, 'home', 'config.json');
    const code = await runCli(['up', ...argv], { io, env: { KINDLING_CONFIG: config, ...env }, cwd: dir, startPlatform, watchShutdown: shutdown.watch });
    return { code, out: out(), err: err(), options: calls[0], stop, config, dispose: shutdown.dispose };
  }

  it('starts with the defaults, prints URL and guest key, writes the CLI config, stops cleanly', async () => {
    const run = await up([]);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.options).toMatchObject({
      port: 3233,
      host: '127.0.0.1',
      dataDir: join(dir, '.kindling'),
      runtime: 'process',
      providers: [],
      mqtt: true,
    });
    expect(run.options?.auth).toBeUndefined();
    expect(run.options?.natsUrl).toBeUndefined();
    expect(run.out).toContain('API URL    http://127.0.0.1:3233\n');
    expect(run.out).toContain(`guest key  ${GUEST}\n`);
    expect(run.out).toContain('MQTT       mqtt://127.0.0.1:1883\n');
    expect(JSON.parse(await readFile(run.config, 'utf8'))).toEqual({ apihost: 'http://127.0.0.1:3233', auth: GUEST });
    expect(run.stop).toHaveBeenCalledTimes(1);
    expect(run.err).toContain('SIGINT: stopping');
    expect(run.dispose).toHaveBeenCalled();
  });

  it('passes every flag through to the platform', async () => {
    const run = await up([
      '--port', '4000', '--host', '0.0.0.0', '--data-dir', 'state', '--auth', GUEST, '--nats', 'nats://127.0.0.1:4222',
      '--runtime', 'docker', '--provider', '@acme/one', '--provider', '@acme/two', '--mqtt-port', '18830', '--public-url', 'https://hooks.example',
    ]);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.options).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      dataDir: join(dir, 'state'),
      auth: GUEST,
      natsUrl: 'nats://127.0.0.1:4222',
      runtime: 'docker',
      providers: ['@acme/one', '@acme/two'],
      mqttPort: 18830,
      mqtt: true,
      publicUrl: 'https://hooks.example',
    });
    expect((await up(['--no-mqtt'])).options?.mqtt).toBe(false);
  });

  it('takes the data directory from $KINDLING_DATA_DIR when no flag gives it', async () => {
    expect((await up([], { KINDLING_DATA_DIR: '/var/lib/kindling' })).options?.dataDir).toBe('/var/lib/kindling');
    expect((await up(['--data-dir', 'x'], { KINDLING_DATA_DIR: '/var/lib/kindling' })).options?.dataDir).toBe(join(dir, 'x'));
  });

  it('--json prints what scripts need as one JSON object', async () => {
    const run = await up(['--json']);
    expect(JSON.parse(run.out)).toEqual({
      apiUrl: 'http://127.0.0.1:3233',
      roles: ['api', 'providers', 'rules', 'invoker'],
      guestAuth: GUEST,
      mqttUrl: 'mqtt://127.0.0.1:1883',
      dataDir: join(dir, '.kindling'),
      config: run.config,
    });
  });

  it('passes --roles on, so that one process can run some roles of a deployment on NATS', async () => {
    const run = await up(['--roles', 'rules, invoker', '--nats', 'nats://127.0.0.1:4222']);
    expect(run.options).toMatchObject({ roles: ['rules', 'invoker'], natsUrl: 'nats://127.0.0.1:4222' });
    run.dispose();
  });

  it('passes where activations go and how long they stay, from flags or else the environment', async () => {
    const flags = await up(['--activations', 'postgres://kindling:pw@db/acts', '--activations-max-age', '7d', '--activations-max-count', '5000']);
    expect(flags.options?.activations).toEqual({ url: 'postgres://kindling:pw@db/acts', maxAgeMs: 7 * 86_400_000, maxCountPerNamespace: 5000 });
    const env = await up(['--activations-max-age', '90m'], { KINDLING_ACTIVATIONS_URL: 'postgresql://db/acts', KINDLING_ACTIVATIONS_MAX_AGE: '2d' });
    expect(env.options?.activations).toEqual({ url: 'postgresql://db/acts', maxAgeMs: 90 * 60_000 });
    expect((await up([])).options?.activations).toEqual({});
    for (const [argv, environment] of [[['--activations-max-age', '24'], {}], [['--activations', 'mysql://db'], {}], [[], { KINDLING_ACTIVATIONS_MAX_COUNT: 'many' }]] as const) {
      const run = await up([...argv], environment);
      expect({ argv, started: run.options !== undefined, ok: run.code === ExitCode.ok }).toEqual({ argv, started: false, ok: false });
    }
  });

  it('refuses bad flags with exit 2 before starting anything', async () => {
    for (const argv of [['--runtime', 'vm'], ['--port', '70000'], ['--port', 'http'], ['--auth', 'no-colon'], ['--roles', 'api,cron'], ['--roles', '']]) {
      const run = await up(argv);
      expect({ argv, code: run.code, started: run.options !== undefined }).toEqual({ argv, code: ExitCode.usage, started: false });
    }
  });

  it('exits 1 with the reason when the platform cannot start', async () => {
    const run = await up([], {}, async () => {
      throw new Error('port 3233 is in use');
    });
    expect(run.code).toBe(ExitCode.failed);
    expect(run.err).toBe('error: the platform could not start: port 3233 is in use\n');
    expect(run.dispose).toHaveBeenCalled();
  });
});

describe('watchShutdownSignals', () => {
  it('resolves on the first SIGTERM, forces on a second, and lets go on dispose', async () => {
    const before = process.listenerCount('SIGTERM');
    const forced = jest.fn();
    const watch = watchShutdownSignals(forced);
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    // emit() calls the listeners only: no signal reaches the process.
    process.emit('SIGTERM', 'SIGTERM');
    await expect(watch.requested).resolves.toBe('SIGTERM');
    expect(forced).not.toHaveBeenCalled();
    process.emit('SIGINT', 'SIGINT');
    expect(forced).toHaveBeenCalledTimes(1);
    watch.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
