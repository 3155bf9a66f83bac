import { resolve } from 'node:path';
import { createLogger, KindlingError, messageOf, ROLES, type Role } from '@kindling/core';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { checkAuth, configFilePath, writeConfigFile } from '../config.js';
import { durationMs, integerIn, repeatable } from '../option-parsers.js';
import { Output } from '../output.js';
import type { ActivationStoreSettings, PlatformOptions, RunningPlatform } from '@kindling/platform';
import type { CliRuntime, GlobalOptions } from '../runtime.js';
import { watchShutdownSignals } from '../shutdown-signals.js';

interface UpFlags {
  port: number;
  host: string;
  dataDir?: string;
  nats?: string;
  activations?: string;
  activationsMaxAge?: number;
  activationsMaxCount?: number;
  runtime: 'process' | 'docker';
  provider?: string[];
  mqttPort?: number;
  mqtt: boolean;
  publicUrl?: string;
  roles?: Role[];
}

export function registerUpCommand(program: Command, runtime: CliRuntime): void {
  program
    .command('up')
    .description('start the whole platform in this process: API, providers, rule engine and runner')
    .option('--port <port>', 'port of the REST API', integerIn(0, 65_535), 3233)
    .option('--host <host>', 'address the REST API listens on', '127.0.0.1')
    .option('--data-dir <dir>', 'where entities, feeds and cursors are kept (default: $KINDLING_DATA_DIR or ./.kindling)')
    .option('--nats <url>', 'use NATS JetStream at this URL instead of the embedded bus and store')
    .option('--activations <url>', 'keep activation records in PostgreSQL at this postgres:// URL (default: $KINDLING_ACTIVATIONS_URL, else SQLite when embedded, a bounded store on NATS)')
    .option('--activations-max-age <duration>', 'prune activation records older than this: 90m, 24h, 7d (default 24h; 7d on PostgreSQL)', durationMs)
    .option('--activations-max-count <n>', 'keep at most this many activation records per namespace (default 1,000,000 embedded, 10,000 on NATS without PostgreSQL, none on PostgreSQL)', integerIn(1))
    .addOption(new Option('--runtime <runtime>', 'how actions run').choices(['process', 'docker']).default('process'))
    .option('--provider <package>', 'also load this feed provider package; repeatable', repeatable)
    .option('--mqtt-port <port>', 'port of the embedded MQTT broker', integerIn(0, 65_535))
    .option('--no-mqtt', 'do not start the embedded MQTT broker')
    .option('--public-url <url>', 'URL the outside world reaches the API at (for webhook feeds)')
    .option('--roles <roles>', `run only these roles, comma-separated (${ROLES.join(', ')}); needs --nats`, rolesList)
    .addHelpText('after', '\nThe guest key is --auth <uuid:key> if given, else the one kept in the data directory.')
    .action(async (flags: UpFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const options = platformOptions(flags, globals, runtime);
      const out = new Output(runtime.io, Boolean(globals.json));
      const watch = (runtime.watchShutdown ?? watchShutdownSignals)();
      try {
        const platform = await start(runtime, options);
        await announce(platform, options, out, runtime);
        const signal = await watch.requested;
        runtime.io.stderr(`${signal}: stopping (again to force)\n`);
        await platform.stop();
        runtime.io.stderr('stopped\n');
      } finally {
        watch.dispose();
      }
    });
}

/** Starts the platform (loaded only now: the entity commands need none of it), naming the step that failed. */
async function start(runtime: CliRuntime, options: PlatformOptions): Promise<AnnouncedPlatform> {
  try {
    const startPlatform = runtime.startPlatform ?? (await loadPlatform()).startPlatform;
    return await startPlatform(options);
  } catch (error) {
    throw new KindlingError('KND_INTERNAL', `the platform could not start: ${messageOf(error)}`, { cause: error });
  }
}

/**
 * The composition root, an optional peer dependency: the CLI installed alone is a thin client,
 * and `kindling up` then says what to install.
 */
async function loadPlatform(): Promise<typeof import('@kindling/platform')> {
  try {
    return await import('@kindling/platform');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' || !messageOf(error).includes('@kindling/platform')) throw error;
    throw new KindlingError('KND_INTERNAL', 'kindling up needs the platform, which is not installed: npm install @kindling/platform', { cause: error });
  }
}

/** The command line as the composition root takes it; paths resolved against the working directory. */
export function platformOptions(flags: UpFlags, globals: GlobalOptions, runtime: CliRuntime): PlatformOptions {
  const dataDir = resolve(runtime.cwd, flags.dataDir ?? runtime.env.KINDLING_DATA_DIR ?? '.kindling');
  return {
    port: flags.port,
    host: flags.host,
    dataDir,
    auth: globals.auth === undefined ? undefined : checkAuth(globals.auth, '--auth'),
    natsUrl: flags.nats,
    activations: activationSettings(flags, runtime.env),
    runtime: flags.runtime,
    providers: flags.provider ?? [],
    mqttPort: flags.mqttPort,
    mqtt: flags.mqtt,
    publicUrl: flags.publicUrl,
    ...(flags.roles ? { roles: flags.roles } : {}),
    // Logs go to stderr: stdout carries what `up` reports (the URL and key), for people or for --json.
    log: createLogger({ name: 'kindling', destination: process.stderr }),
  };
}

/** Flags first, then the environment; a bad value in the environment is refused as a flag's would be. */
function activationSettings(flags: UpFlags, env: CliRuntime['env']): ActivationStoreSettings {
  const fromEnv = <T>(name: string, parse: (text: string) => T): T | undefined => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    try {
      return parse(text);
    } catch (error) {
      throw new KindlingError('KND_VALIDATION', `${name}: ${messageOf(error)}`, { field: name });
    }
  };
  const url = flags.activations ?? fromEnv('KINDLING_ACTIVATIONS_URL', (text) => text);
  const maxAgeMs = flags.activationsMaxAge ?? fromEnv('KINDLING_ACTIVATIONS_MAX_AGE', durationMs);
  const maxCountPerNamespace = flags.activationsMaxCount ?? fromEnv('KINDLING_ACTIVATIONS_MAX_COUNT', integerIn(1));
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw new KindlingError('KND_VALIDATION', "'--activations' must be a postgres:// or postgresql:// URL", { field: 'activations' });
  }
  return { ...(url ? { url } : {}), ...(maxAgeMs ? { maxAgeMs } : {}), ...(maxCountPerNamespace ? { maxCountPerNamespace } : {}) };
}

function rolesList(text: string): Role[] {
  const roles = text.split(',').map((role) => role.trim()).filter(Boolean);
  const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length > 0 || roles.length === 0) {
    throw new InvalidArgumentError(`roles are some of ${ROLES.join(', ')}; got '${text}'`);
  }
  return roles as Role[];
}

/** The embedded MQTT broker's URL is reported by platforms that run one. */
type AnnouncedPlatform = RunningPlatform & { mqttUrl?: string };

/** Prints where the API is and the guest key, and points the CLI's config at them. */
async function announce(platform: AnnouncedPlatform, options: PlatformOptions, out: Output, runtime: CliRuntime): Promise<void> {
  const configPath = configFilePath(runtime.env);
  let configWritten = false;
  if (platform.apiUrl) {
    try {
      await writeConfigFile(configPath, { apihost: platform.apiUrl, auth: platform.guestAuth });
      configWritten = true;
    } catch (error) {
      out.warn(`could not write the CLI config ${configPath}: ${(error as Error).message}`);
    }
  }
  if (out.json) {
    out.value({
      apiUrl: platform.apiUrl ?? null,
      roles: platform.roles,
      guestAuth: platform.guestAuth,
      mqttUrl: platform.mqttUrl,
      dataDir: options.dataDir,
      config: configWritten ? configPath : null,
    });
    return;
  }
  runtime.io.stdout(
    [
      'Kindling is up.',
      platform.apiUrl ? `  API URL    ${platform.apiUrl}` : undefined,
      `  roles      ${platform.roles.join(', ')}`,
      `  guest key  ${platform.guestAuth}`,
      platform.mqttUrl ? `  MQTT       ${platform.mqttUrl}` : undefined,
      `  data dir   ${options.dataDir}`,
      configWritten ? `  config     ${configPath} (kindling commands now use this API and key)` : undefined,
      'Press Ctrl-C to stop.',
      '',
    ]
      .filter((line) => line !== undefined)
      .join('\n'),
  );
}
