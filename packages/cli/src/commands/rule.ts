import type { Command } from 'commander';
import { entityPath, isRecord, qualifiedName } from '../api-client.js';
import { RULE_BATCH_MAX_SIZE, RULE_BATCH_MAX_WINDOW_MS } from '@kindling/core';
import { usageError } from '../exit-codes.js';
import { integerIn } from '../option-parsers.js';
import { parseJsonObject } from '../params.js';
import { commandContext, type CliRuntime } from '../runtime.js';
import { addListOptions, type ListFlags } from './list-options.js';

interface RuleFlags {
  filter?: string;
  batchSize?: number;
  batchWindow?: number;
  /** `false` for `--no-batch`. */
  batch?: boolean;
}

/** What a batch flag given alone pairs with: a second's window, or as many events as fit. */
const DEFAULT_BATCH_WINDOW_MS = 1000;

function batchOf(flags: RuleFlags): Record<string, number> | null | undefined {
  if (flags.batchSize === undefined && flags.batchWindow === undefined) return flags.batch === false ? null : undefined;
  if (flags.batch === false) throw usageError('--no-batch cannot be given with --batch-size or --batch-window', 'batch');
  return { size: flags.batchSize ?? RULE_BATCH_MAX_SIZE, windowMs: flags.batchWindow ?? DEFAULT_BATCH_WINDOW_MS };
}

interface RuleSummary {
  name: string;
  status?: string;
  trigger?: unknown;
  action?: unknown;
}

export function registerRuleCommands(program: Command, runtime: CliRuntime, userAgent: string): void {
  const group = program.command('rule').description('bind triggers to actions');
  const context = (command: Command) => commandContext(runtime, command, userAgent);

  const put = async (name: string, trigger: string | undefined, action: string | undefined, flags: RuleFlags, command: Command, overwrite: boolean) => {
    const ctx = context(command);
    if (!overwrite && (trigger === undefined || action === undefined)) {
      throw usageError('rule create needs a trigger and an action: kindling rule create <name> <trigger> <action>', trigger === undefined ? 'trigger' : 'action');
    }
    const body: Record<string, unknown> = {};
    if (trigger !== undefined) body.trigger = qualifiedName(trigger);
    if (action !== undefined) body.action = qualifiedName(action);
    if (flags.filter !== undefined) body.filter = parseJsonObject(flags.filter, '--filter');
    const batch = batchOf(flags);
    if (batch !== undefined) body.batch = batch;
    const { body: saved } = await (await ctx.api()).request('PUT', entityPath('rules', name), { query: { overwrite }, body });
    ctx.out.done(`${overwrite ? 'updated' : 'created'} rule ${name}`, saved);
  };

  group
    .command('create <name> <trigger> <action>')
    .description('create a rule (active at once): each event of <trigger> runs <action>')
    .option('--filter <json>', 'run the action only for events matching this MongoDB-style query, such as \'{"data.temp": {"$gt": 30}}\'')
    .option('--batch-size <n>', `run the action once per batch of up to <n> events, given as { events: [...] } (1 to ${RULE_BATCH_MAX_SIZE})`, integerIn(1, RULE_BATCH_MAX_SIZE))
    .option('--batch-window <ms>', `close a batch <ms> after its first event even if not full (1 to ${RULE_BATCH_MAX_WINDOW_MS}; default ${DEFAULT_BATCH_WINDOW_MS})`, integerIn(1, RULE_BATCH_MAX_WINDOW_MS))
    .action((name: string, trigger: string, action: string, flags: RuleFlags, command: Command) => put(name, trigger, action, flags, command, false));

  group
    .command('update <name> [trigger] [action]')
    .description("change a rule's trigger, action, filter or batching")
    .option('--filter <json>', 'the new filter, a MongoDB-style query over the event')
    .option('--batch-size <n>', `batch the events, up to <n> per activation (1 to ${RULE_BATCH_MAX_SIZE})`, integerIn(1, RULE_BATCH_MAX_SIZE))
    .option('--batch-window <ms>', `close a batch <ms> after its first event (1 to ${RULE_BATCH_MAX_WINDOW_MS}; default ${DEFAULT_BATCH_WINDOW_MS})`, integerIn(1, RULE_BATCH_MAX_WINDOW_MS))
    .option('--no-batch', 'deliver events one per activation again')
    .action((name: string, trigger: string | undefined, action: string | undefined, flags: RuleFlags, command: Command) =>
      put(name, trigger, action, flags, command, true),
    );

  group
    .command('get <name>')
    .description('show a rule')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request('GET', entityPath('rules', name));
      ctx.out.record(body);
    });

  addListOptions(group.command('list'))
    .description('list rules')
    .action(async (flags: ListFlags, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request<RuleSummary[]>('GET', entityPath('rules', ''), {
        query: { limit: flags.limit, skip: flags.skip },
      });
      ctx.out.list(body, [
        { header: 'name', value: (r) => r.name },
        { header: 'status', value: (r) => r.status ?? '' },
        { header: 'trigger', value: (r) => entityName(r.trigger) },
        { header: 'action', value: (r) => entityName(r.action) },
      ]);
    });

  group
    .command('delete <name>')
    .description('delete a rule')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request('DELETE', entityPath('rules', name));
      ctx.out.done(`deleted rule ${name}`, body);
    });

  for (const [verb, status] of [['enable', 'active'], ['disable', 'inactive']] as const) {
    group
      .command(`${verb} <name>`)
      .description(`${verb} a rule (status ${status})`)
      .action(async (name: string, _flags: unknown, command: Command) => {
        const ctx = context(command);
        const { body } = await (await ctx.api()).request('POST', entityPath('rules', name), { body: { status } });
        ctx.out.done(`${verb}d rule ${name}`, body);
      });
  }
}

/** `{path: 'guest', name: 'hello'}` (as the API shows it) or a string → `guest/hello`. */
function entityName(value: unknown): string {
  if (isRecord(value)) return [value.path, value.name].filter((part) => typeof part === 'string' && part).join('/');
  return typeof value === 'string' ? value : '';
}
