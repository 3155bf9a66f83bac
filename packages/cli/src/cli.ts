import { readFileSync } from 'node:fs';
import { messageOf } from '@kindling/core';
import { Command, CommanderError } from 'commander';
import { registerActionCommands } from './commands/action.js';
import { registerActivationCommands } from './commands/activation.js';
import { registerFeedCommands } from './commands/feed.js';
import { registerProviderCommands } from './commands/provider.js';
import { registerRuleCommands } from './commands/rule.js';
import { registerTriggerCommands } from './commands/trigger.js';
import { registerUpCommand } from './commands/up.js';
import { exitCodeFor } from './exit-codes.js';
import { foldParamPairs } from './params.js';
import { createRuntime, type CliRuntime } from './runtime.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** The `kindling` program, writing through `runtime` and never exiting the process itself. */
export function buildProgram(runtime: CliRuntime): Command {
  const program = new Command('kindling');
  const userAgent = `kindling-cli/${version}`;
  // Set before the subcommands are added: commander copies these settings into each of them.
  program
    .description('Kindling: feeds fire triggers, rules run actions. Start it with `kindling up`.')
    .version(version)
    .exitOverride()
    .configureOutput({ writeOut: (text) => runtime.io.stdout(text), writeErr: (text) => runtime.io.stderr(text) })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .option('--apihost <url>', 'API host (else $KINDLING_APIHOST, $__OW_API_HOST, the config file, http://127.0.0.1:3233)')
    .option('-u, --auth <uuid:key>', 'API key (else $KINDLING_AUTH, $__OW_API_KEY, the config file); for `up`, the guest key')
    .option('--json', 'print the API\'s JSON instead of tables, for scripts');
  registerUpCommand(program, runtime);
  registerActionCommands(program, runtime, userAgent);
  registerTriggerCommands(program, runtime, userAgent);
  registerFeedCommands(program, runtime, userAgent);
  registerRuleCommands(program, runtime, userAgent);
  registerActivationCommands(program, runtime, userAgent);
  registerProviderCommands(program, runtime, userAgent);
  return program;
}

/**
 * Runs one command line (without `node` and the script) and resolves with the exit code:
 * 0 ok, 1 request failed, 2 usage error, 3 API unreachable (see `ExitCode`).
 */
export async function runCli(argv: readonly string[], overrides: Partial<CliRuntime> = {}): Promise<number> {
  const runtime = createRuntime(overrides);
  try {
    await buildProgram(runtime).parseAsync(foldParamPairs(argv), { from: 'user' });
    return runtime.exitCode;
  } catch (error) {
    // Commander has already printed its own message (or the help).
    if (!(error instanceof CommanderError)) {
      runtime.io.stderr(`error: ${messageOf(error)}\n`);
      if (runtime.env.KINDLING_DEBUG && error instanceof Error && error.stack) runtime.io.stderr(`${error.stack}\n`);
    }
    return exitCodeFor(error);
  }
}
