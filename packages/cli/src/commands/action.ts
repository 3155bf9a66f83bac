import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { annotation, fromParams, type KeyValue } from '@kindling/core';
import type { Command } from 'commander';
import { ApiError, entityPath, isRecord, qualifiedName, type ApiClient } from '../api-client.js';
import { ExitCode, usageError } from '../exit-codes.js';
import { integerIn } from '../option-parsers.js';
import { formatDuration, formatTime } from '../output.js';
import { collectParam, gatherParams, type ParamFlags } from '../params.js';
import { commandContext, type CliRuntime, type CommandContext } from '../runtime.js';
import { addListOptions, type ListFlags } from './list-options.js';

/** Kinds the CLI infers from a file's extension; any other file needs `--kind`. */
const KIND_BY_EXTENSION: Record<string, string> = { '.js': 'nodejs:20', '.mjs': 'nodejs:20', '.cjs': 'nodejs:20' };

interface ActionFlags extends ParamFlags {
  kind?: string;
  main?: string;
  timeout?: number;
  memory?: number;
  sequence?: string;
}

interface InvokeFlags extends ParamFlags {
  blocking?: boolean;
  result?: boolean;
}

interface ActionSummary {
  name: string;
  version?: string;
  updated?: number;
  exec?: { kind?: string };
  annotations?: KeyValue[];
}

export function registerActionCommands(program: Command, runtime: CliRuntime, userAgent: string): void {
  const group = program.command('action').description('create, update, run and inspect actions');
  const context = (command: Command) => commandContext(runtime, command, userAgent);

  addActionOptions(group.command('create <name> [file]'))
    .description('create an action from a JavaScript file, or a sequence of actions (--sequence a,b)')
    .action(async (name: string, file: string | undefined, flags: ActionFlags, command: Command) => {
      const ctx = context(command);
      if (file === undefined && flags.sequence === undefined) {
        throw usageError('action create needs a code file, or --sequence with the actions to chain', 'file');
      }
      await putAction(ctx, name, await actionBody(file, flags), false);
    });

  addActionOptions(group.command('update <name> [file]'))
    .description('update an action: new code, parameters or limits (what is not given is kept)')
    .action(async (name: string, file: string | undefined, flags: ActionFlags, command: Command) => {
      await putAction(context(command), name, await actionBody(file, flags), true);
    });

  group
    .command('get <name>')
    .description('show an action')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request('GET', entityPath('actions', name));
      ctx.out.record(ctx.out.json ? body : withCodeSize(body));
    });

  addListOptions(group.command('list'))
    .description('list actions')
    .action(async (flags: ListFlags, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request<ActionSummary[]>('GET', entityPath('actions', ''), {
        query: { limit: flags.limit, skip: flags.skip },
      });
      ctx.out.list(body, [
        { header: 'name', value: (a) => a.name },
        { header: 'kind', value: (a) => a.exec?.kind ?? String(annotation(a.annotations ?? [], 'exec') ?? '') },
        { header: 'version', value: (a) => a.version ?? '' },
        { header: 'updated', value: (a) => formatTime(a.updated) },
      ]);
    });

  group
    .command('delete <name>')
    .description('delete an action')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request('DELETE', entityPath('actions', name));
      ctx.out.done(`deleted action ${name}`, body);
    });

  group
    .command('invoke <name>')
    .description('run an action with parameters; --blocking waits for its activation, --result prints only the result')
    .option('-p, --param <key> <value>', 'parameter (value read as JSON when it parses, else text); repeatable', collectParam)
    .option('-P, --param-file <file>', 'parameters from a JSON object file (-p wins over it)')
    .option('-b, --blocking', 'wait for the activation and print it')
    .option('-r, --result', 'wait, then print only the result (implies --blocking)')
    .action(async (name: string, flags: InvokeFlags, command: Command) => {
      const ctx = context(command);
      const blocking = Boolean(flags.blocking || flags.result);
      const record = await invoke(await ctx.api(), name, await gatherParams(flags), blocking);
      if (!isActivation(record)) {
        const id = isRecord(record) ? String(record.activationId ?? '') : '';
        const still = blocking ? '; still running after the blocking wait' : '';
        ctx.out.done(`invoked ${name}${still}, activation ${id}`, record);
        return;
      }
      const failed = record.response.success !== true;
      if (flags.result) ctx.out.value(record.response.result ?? {});
      else if (ctx.out.json) ctx.out.value(record);
      else {
        const how = `${record.response.status ?? ''}${record.duration === undefined ? '' : `, ${formatDuration(record.duration)}`}`;
        runtime.io.stdout(`${failed ? 'failed' : 'ok'}: invoked ${name}, activation ${record.activationId} (${how})\n`);
        ctx.out.value(record.response.result ?? {});
      }
      if (failed) {
        runtime.io.stderr(`error: activation ${record.activationId} of ${name} ended with status '${record.response.status}'\n`);
        runtime.exitCode = ExitCode.failed;
      }
    });
}

function addActionOptions(command: Command): Command {
  return command
    .option('--kind <kind>', "runtime kind, such as nodejs:20 (default: from the file's extension)")
    .option('--main <function>', 'name of the function to run (default: main)')
    .option('-p, --param <key> <value>', 'default parameter (value read as JSON when it parses, else text); repeatable', collectParam)
    .option('-P, --param-file <file>', 'default parameters from a JSON object file (-p wins over it)')
    .option('-t, --timeout <ms>', 'time limit per run, in milliseconds', integerIn(1))
    .option('-m, --memory <mb>', 'memory limit, in megabytes', integerIn(1))
    .option('--sequence <actions>', 'make a sequence of these actions, comma-separated, run in order');
}

async function putAction(ctx: CommandContext, name: string, body: Record<string, unknown>, overwrite: boolean): Promise<void> {
  const { body: saved } = await (await ctx.api()).request('PUT', entityPath('actions', name), {
    query: { overwrite },
    body,
  });
  ctx.out.done(`${overwrite ? 'updated' : 'created'} action ${name}`, saved);
}

/** The PUT body: `exec` from the file or the sequence, then parameters and limits if given. */
async function actionBody(file: string | undefined, flags: ActionFlags): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  if (flags.sequence !== undefined) {
    if (file !== undefined) throw usageError('give either a code file or --sequence, not both', '--sequence');
    const components = flags.sequence.split(',').map((s) => s.trim()).filter(Boolean);
    if (components.length === 0) throw usageError('--sequence needs at least one action name', '--sequence');
    body.exec = { kind: 'sequence', components: components.map(qualifiedName) };
  } else if (file !== undefined) {
    const kind = flags.kind ?? KIND_BY_EXTENSION[extname(file).toLowerCase()];
    if (!kind) throw usageError(`cannot tell the kind of '${file}' from its extension; pass --kind (such as nodejs:20)`, '--kind');
    let code: string;
    try {
      code = await readFile(file, 'utf8');
    } catch (error) {
      throw usageError(`the code file ${file} could not be read: ${(error as Error).message}`, 'file');
    }
    body.exec = { kind, code, ...(flags.main === undefined ? {} : { main: flags.main }) };
  } else if (flags.kind !== undefined || flags.main !== undefined) {
    throw usageError('--kind and --main need the code file they apply to', flags.kind !== undefined ? '--kind' : '--main');
  }
  if (flags.param !== undefined || flags.paramFile !== undefined) body.parameters = fromParams(await gatherParams(flags));
  const limits: Record<string, number> = {};
  if (flags.timeout !== undefined) limits.timeout = flags.timeout;
  if (flags.memory !== undefined) limits.memory = flags.memory;
  if (Object.keys(limits).length > 0) body.limits = limits;
  return body;
}

/** A blocking invoke that failed answers 502 or 500 with the activation record: still a record to show. */
async function invoke(api: ApiClient, name: string, params: Record<string, unknown>, blocking: boolean): Promise<unknown> {
  try {
    const { body } = await api.request('POST', entityPath('actions', name), { query: { blocking }, body: params });
    return body;
  } catch (error) {
    if (error instanceof ApiError && blocking && isActivation(error.body)) return error.body;
    throw error;
  }
}

interface ActivationView {
  activationId: string;
  duration?: number;
  response: { status?: string; success?: boolean; result?: unknown };
}

export function isActivation(value: unknown): value is ActivationView {
  return isRecord(value) && typeof value.activationId === 'string' && isRecord(value.response);
}

/** For people, an action's code is shown as its size: `--json` prints the code itself. */
function withCodeSize(action: unknown): unknown {
  if (!isRecord(action) || !isRecord(action.exec) || typeof action.exec.code !== 'string') return action;
  const size = Buffer.byteLength(action.exec.code);
  return { ...action, exec: { ...action.exec, code: `(${size} bytes; --json shows the code)` } };
}
