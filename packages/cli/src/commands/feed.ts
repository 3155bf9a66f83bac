import { Option, type Command } from 'commander';
import { entityPath } from '../api-client.js';
import { usageError } from '../exit-codes.js';
import { collectParam, gatherParams, type ParamFlags } from '../params.js';
import { formatTime } from '../output.js';
import { commandContext, type CliRuntime } from '../runtime.js';
import { addListOptions, type ListFlags } from './list-options.js';

/** What the API shows of a feed: its record and its observed status. */
interface FeedSummary {
  trigger: string;
  provider: string;
  kind: string;
  status?: { status?: string; reason?: string; fires?: number; lastFireAt?: number };
}

interface FeedListFlags extends ListFlags {
  status?: string;
  provider?: string;
  trigger?: string;
}

/**
 * A feed is named by its trigger (a trigger has at most one). A feed is created with its
 * trigger: `kindling trigger create <name> --feed provider/kind -p ...`.
 */
export function registerFeedCommands(program: Command, runtime: CliRuntime, userAgent: string): void {
  const group = program.command('feed').description("read, pause, resume, update and delete a trigger's feed");
  const context = (command: Command) => commandContext(runtime, command, userAgent);

  addListOptions(group.command('list'))
    .description('list feeds with their status, most recently changed first')
    .addOption(new Option('--status <status>', 'only feeds in this status').choices(['pending', 'active', 'paused', 'failing', 'disabled']))
    .option('--provider <name>', 'only feeds of this provider')
    .option('--trigger <prefix>', 'only feeds whose trigger name starts with this')
    .action(async (flags: FeedListFlags, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request<FeedSummary[]>('GET', entityPath('feeds', ''), {
        query: { limit: flags.limit, skip: flags.skip, status: flags.status, provider: flags.provider, trigger: flags.trigger },
      });
      ctx.out.list(body, [
        { header: 'trigger', value: (f) => f.trigger },
        { header: 'feed', value: (f) => `${f.provider}/${f.kind}` },
        { header: 'status', value: (f) => f.status?.status ?? '' },
        { header: 'fires', value: (f) => (f.status?.fires === undefined ? '' : String(f.status.fires)) },
        { header: 'last fire', value: (f) => formatTime(f.status?.lastFireAt) },
        { header: 'reason', value: (f) => f.status?.reason ?? '', maxWidth: 60 },
      ]);
    });

  group
    .command('get <trigger>')
    .description("show the trigger's feed: provider, kind, parameters (secrets masked) and status")
    .action(async (trigger: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request('GET', entityPath('feeds', trigger));
      ctx.out.record(body);
    });

  for (const [verb, action, done] of [
    ['pause', 'pause', 'paused'],
    ['resume', 'unpause', 'resumed'],
  ] as const) {
    group
      .command(`${verb} <trigger>`)
      .description(verb === 'pause' ? 'stop the feed firing, keeping it and its cursor' : 'start a paused feed again')
      .action(async (trigger: string, _flags: unknown, command: Command) => {
        const ctx = context(command);
        const { body } = await (await ctx.api()).request('POST', entityPath('feeds', trigger), { body: { action } });
        ctx.out.done(`${done} the feed of trigger ${trigger}`, body);
      });
  }

  group
    .command('update <trigger>')
    .description("change the feed's parameters: those given replace theirs, the others stay (validated before anything changes)")
    .option('-p, --param <key> <value>', 'feed parameter (value read as JSON when it parses, else text); repeatable', collectParam)
    .option('-P, --param-file <file>', 'feed parameters from a JSON object file (-p wins over it)')
    .action(async (trigger: string, flags: ParamFlags, command: Command) => {
      const ctx = context(command);
      if (flags.param === undefined && flags.paramFile === undefined) {
        throw usageError('feed update needs the new parameters: -p KEY VALUE or --param-file', '--param');
      }
      const params = await gatherParams(flags);
      const { body } = await (await ctx.api()).request('PUT', entityPath('feeds', trigger), {
        query: { overwrite: true },
        body: { params },
      });
      ctx.out.done(`updated the feed of trigger ${trigger}`, body);
    });

  group
    .command('delete <trigger>')
    .description('delete the feed, keeping the trigger (which can still be fired by hand)')
    .action(async (trigger: string, _flags: unknown, command: Command) => {
      const ctx = context(command);
      const { body } = await (await ctx.api()).request('DELETE', entityPath('feeds', trigger));
      ctx.out.done(`deleted the feed of trigger ${trigger}`, body);
    });
}
