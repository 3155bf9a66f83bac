import { annotation } from '@kindling/core';
import { Option, type Command } from 'commander';
import { entityPath, isRecord } from '../api-client.js';
import { timestamp } from '../option-parsers.js';
import { formatDuration, formatTime } from '../output.js';
import { commandContext, type CliRuntime } from '../runtime.js';
import { registerActivationPoll } from './activation-poll.js';
import { statusOf, type ActivationSummary } from './activation-view.js';
import { addListOptions, type ListFlags } from './list-options.js';

interface ActivationListFlags extends ListFlags {
  since?: number;
  upto?: number;
  status?: string;
  count?: boolean;
}

/** The API's `status` filter values: OpenWhisk's four outcomes. */
const STATUSES = ['success', 'application-error', 'developer-error', 'internal-error'];

export function registerActivationCommands(program: Command, runtime: CliRuntime, userAgent: string): void {
  const group = program.command('activation').description('records of trigger fires and action runs');
  const context = (command: Command) => commandContext(runtime, command, userAgent);

  addListOptions(group.command('list [name]'))
    .description('list activations, newest first, of all entities or of one action or trigger')
    .option('--since <time>', 'only those started at or after this time (epoch ms or a date)', timestamp)
    .option('--upto <time>', 'only those started at or before this time (epoch ms or a date)', timestamp)
    .addOption(new Option('--status <status>', 'only those with this outcome').choices(STATUSES))
    .option('--count', 'print how many activations the filters select instead of listing them')
    .action(async (name: string | undefined, flags: ActivationListFlags, command: Command) => {
      const ctx = context(command);
      const filters = { name, since: flags.since, upto: flags.upto, status: flags.status };
      if (flags.count) {
        const { body } = await (await ctx.api()).request<{ activations: number }>('GET', entityPath('activations', ''), { query: { ...filters, count: true } });
        if (ctx.out.json) ctx.out.value(body);
        else runtime.io.stdout(`${body.activations}\n`);
        return;
      }
      const { body } = await (await ctx.api()).request<ActivationSummary[]>('GET', entityPath('activations', ''), {
        query: { ...filters, limit: flags.limit, skip: flags.skip },
      });
      ctx.out.list(body, [
        { header: 'start', value: (a) => formatTime(a.start) },
        { header: 'activation id', value: (a) => a.activationId },
        { header: 'kind', value: (a) => String(annotation(a.annotations ?? [], 'kind') ?? '') },
        { header: 'duration', value: (a) => formatDuration(a.duration) },
        { header: 'status', value: statusOf },
        { header: 'name', value: (a) => a.name ?? '' },
      ]);
    });

  group
    .command('get <id>')
    .description('show an activation record')
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request('GET', entityPath('activations', id));
      ctx.out.record(ctx.out.json ? body : withLogCount(body, id));
    });

  group
    .command('logs <id>')
    .description("print an activation's log lines")
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request<{ logs?: unknown[] }>('GET', `${entityPath('activations', id)}/logs`);
      const lines = Array.isArray(body?.logs) ? body.logs.map(String) : [];
      ctx.out.lines(lines, body);
    });

  group
    .command('result <id>')
    .description("print an activation's result")
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request('GET', `${entityPath('activations', id)}/result`);
      ctx.out.value(ctx.out.json || !isRecord(body) ? body : (body.result ?? {}));
    });

  registerActivationPoll(group, runtime, userAgent);
}

/** For people, logs are counted in the record and printed by `activation logs`. */
function withLogCount(activation: unknown, id: string): unknown {
  if (!isRecord(activation) || !Array.isArray(activation.logs)) return activation;
  return { ...activation, logs: `${activation.logs.length} lines (kindling activation logs ${id})` };
}
