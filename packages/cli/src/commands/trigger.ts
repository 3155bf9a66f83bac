import { annotation, fromParams, type KeyValue } from '@kindling/core';
import type { Command } from 'commander';
import { entityPath, isRecord } from '../api-client.js';
import { usageError } from '../exit-codes.js';
import { formatTime } from '../output.js';
import { collectParam, gatherParams, parseJsonObject, type ParamFlags } from '../params.js';
import { commandContext, type CliRuntime, type CommandContext } from '../runtime.js';
import { addListOptions, type ListFlags } from './list-options.js';

interface TriggerFlags extends ParamFlags {
  feed?: string;
}

interface FireFlags extends ParamFlags {
  payload?: string;
}

interface TriggerSummary {
  name: string;
  version?: string;
  updated?: number;
  feed?: unknown;
  feedId?: string;
  annotations?: KeyValue[];
}

export function registerTriggerCommands(program: Command, runtime: CliRuntime, userAgent: string): void {
  const group = program.command('trigger').description('create, fire and inspect triggers');
  const context = (command: Command) => commandContext(runtime, command, userAgent);

  addTriggerOptions(group.command('create <name>'))
    .description('create a trigger; with --feed, create it with its feed in one step (-p then sets feed parameters)')
    .action(async (name: string, flags: TriggerFlags, command: Command) => {
      await putTrigger(context(command), name, flags, false);
    });

  addTriggerOptions(group.command('update <name>'))
    .description("update a trigger's parameters (a feed's parameters: kindling feed update)")
    .action(async (name: string, flags: TriggerFlags, command: Command) => {
      await putTrigger(context(command), name, flags, true);
    });

  group
    .command('get <name>')
    .description('show a trigger')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request('GET', entityPath('triggers', name));
      ctx.out.record(body);
    });

  addListOptions(group.command('list'))
    .description('list triggers')
    .action(async (flags: ListFlags, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request<TriggerSummary[]>('GET', entityPath('triggers', ''), {
        query: { limit: flags.limit, skip: flags.skip },
      });
      ctx.out.list(body, [
        { header: 'name', value: (t) => t.name },
        { header: 'feed', value: feedLabel },
        { header: 'version', value: (t) => t.version ?? '' },
        { header: 'updated', value: (t) => formatTime(t.updated) },
      ]);
    });

  group
    .command('delete <name>')
    .description('delete a trigger, and its feed if it has one')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      // The API deletes the trigger's feed with it, in the same call: no feed outlives its trigger.
      const { body } = await (await ctx.api()).request<TriggerSummary | undefined>('DELETE', entityPath('triggers', name));
      const hadFeed = body !== undefined && (body.feedId !== undefined || feedLabel(body) !== '');
      ctx.out.done(`deleted trigger ${name}${hadFeed ? ' and its feed' : ''}`, body);
    });

  group
    .command('fire <name>')
    .description('fire a trigger by hand with a payload: its active rules run their actions')
    .option('-p, --param <key> <value>', 'payload field (value read as JSON when it parses, else text); repeatable', collectParam)
    .option('-P, --param-file <file>', 'payload fields from a JSON object file')
    .option('--payload <json>', 'the payload as a JSON object (-p fields are added on top)')
    .action(async (name: string, flags: FireFlags, command: Command) => {
      const ctx = context(command);
      const payload = { ...(flags.payload === undefined ? {} : parseJsonObject(flags.payload, '--payload')), ...(await gatherParams(flags)) };
      const { status, body } = await (await ctx.api()).request('POST', entityPath('triggers', name), { body: payload });
      if (status === 204 || !isRecord(body)) {
        ctx.out.done(`fired trigger ${name}; no active rule, so no activation`, body);
      } else {
        ctx.out.done(`fired trigger ${name}, activation ${String(body.activationId)}`, body);
      }
    });
}

function addTriggerOptions(command: Command): Command {
  return command
    .option('-f, --feed <provider/kind>', 'bind a feed, such as alarms/interval (or /whisk.system/alarms/interval)')
    .option('-p, --param <key> <value>', 'parameter (of the feed with --feed, else of the trigger); repeatable', collectParam)
    .option('-P, --param-file <file>', 'parameters from a JSON object file (-p wins over it)');
}

async function putTrigger(ctx: CommandContext, name: string, flags: TriggerFlags, overwrite: boolean): Promise<void> {
  const body: Record<string, unknown> = {};
  const hasParams = flags.param !== undefined || flags.paramFile !== undefined;
  if (flags.feed !== undefined) {
    body.feed = { ...parseFeedName(flags.feed), params: await gatherParams(flags) };
  } else if (hasParams || !overwrite) {
    body.parameters = fromParams(await gatherParams(flags));
  }
  const { body: saved } = await (await ctx.api()).request('PUT', entityPath('triggers', name), { query: { overwrite }, body });
  const withFeed = flags.feed === undefined ? '' : ` with feed ${flags.feed}`;
  ctx.out.done(`${overwrite ? 'updated' : 'created'} trigger ${name}${withFeed}`, saved);
}

/** `alarms/interval` or OpenWhisk's `/whisk.system/alarms/interval` → `{provider, kind}`. */
export function parseFeedName(text: string): { provider: string; kind: string } {
  const parts = text.replace(/^\/whisk\.system\//, '').split('/');
  const [provider, kind] = parts;
  if (parts.length !== 2 || !provider || !kind) {
    throw usageError(`--feed must be written provider/kind, such as alarms/interval; got '${text}'`, '--feed');
  }
  return { provider, kind };
}

/** The feed of a trigger: Kindling's `{provider, kind}`, or OpenWhisk's `feed` annotation. */
function feedLabel(trigger: TriggerSummary): string {
  if (isRecord(trigger.feed) && typeof trigger.feed.provider === 'string') return `${trigger.feed.provider}/${String(trigger.feed.kind)}`;
  const name = typeof trigger.feed === 'string' ? trigger.feed : annotation(trigger.annotations ?? [], 'feed');
  // Shown as it is written in `--feed`: `alarms/interval` for `/whisk.system/alarms/interval`.
  return typeof name === 'string' ? name.replace(/^\/whisk\.system\//, '') : '';
}
