import type { Command } from 'commander';
import { ApiClient } from './api-client.js';
import { resolveClientConfig, type Env } from './config.js';
import { ExitCode } from './exit-codes.js';
import { Output, type Io } from './output.js';
import type { PlatformOptions, RunningPlatform } from '@kindling/platform';
import type { ShutdownWatch } from './shutdown-signals.js';

/** Everything one run of the CLI touches outside itself, so that tests can supply their own. */
export interface CliRuntime {
  io: Io;
  env: Env;
  cwd: string;
  /** Set by a command that printed its output but must still fail (a failed activation). */
  exitCode: number;
  /** `kindling up` starts the platform through this; by default the lead's composition root. */
  startPlatform?: (options: PlatformOptions) => Promise<RunningPlatform>;
  /** Tells `kindling up` when to stop; by default SIGINT or SIGTERM. */
  watchShutdown?: () => ShutdownWatch;
}

export function createRuntime(overrides: Partial<CliRuntime> = {}): CliRuntime {
  return {
    io: { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) },
    env: process.env,
    cwd: process.cwd(),
    exitCode: ExitCode.ok,
    ...overrides,
  };
}

/** The options every command accepts (declared on the program, usable after the subcommand). */
export interface GlobalOptions {
  apihost?: string;
  auth?: string;
  json?: boolean;
}

export interface CommandContext {
  out: Output;
  globals: GlobalOptions;
  /** The API client, configured from flags, environment and config file; made on first use. */
  api(): Promise<ApiClient>;
}

export function commandContext(runtime: CliRuntime, command: Command, userAgent: string): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  let client: ApiClient | undefined;
  return {
    out: new Output(runtime.io, Boolean(globals.json)),
    globals,
    async api() {
      client ??= new ApiClient(await resolveClientConfig(globals, runtime.env), { userAgent });
      return client;
    },
  };
}
