import type { Command } from 'commander';
import { entityPath } from '../api-client.js';
import { secondsAsMs, timestamp } from '../option-parsers.js';
import { formatDuration, formatTime } from '../output.js';
import { commandContext, type CliRuntime } from '../runtime.js';
import { watchShutdownSignals } from '../shutdown-signals.js';
import { statusOf, type ActivationSummary } from './activation-view.js';

interface PollFlags {
  since?: number;
  interval: number;
  exit?: number;
}

/** Activations that start this long before the newest one seen are still looked for (slow records). */
const LOOKBACK_MS = 60_000;

export function registerActivationPoll(group: Command, runtime: CliRuntime, userAgent: string): void {
  group
    .command('poll [name]')
    .description('print activations as they arrive, oldest first, until Ctrl-C (--json: one JSON object per line)')
    .option('--since <time>', 'also show those started since this time (default: now)', timestamp)
    .option('--interval <seconds>', 'how often to ask the API', secondsAsMs, 2000)
    .option('--exit <seconds>', 'stop after this long', secondsAsMs)
    .action(async (name: string | undefined, flags: PollFlags, command: Command) => {
      const ctx = commandContext(runtime, command, userAgent);
      const api = await ctx.api();
      const watch = (runtime.watchShutdown ?? watchShutdownSignals)();
      let stopped = false;
      void watch.requested.then(() => (stopped = true));
      const deadline = flags.exit === undefined ? Infinity : Date.now() + flags.exit;
      const seen = new Map<string, number>();
      let since = flags.since ?? Date.now();
      try {
        if (!ctx.out.json) runtime.io.stderr(`polling for activations${name ? ` of ${name}` : ''}; Ctrl-C to stop\n`);
        while (!stopped && Date.now() < deadline) {
          const { body } = await api.request<ActivationSummary[]>('GET', entityPath('activations', ''), {
            query: { name, since, limit: 200 },
          });
          for (const activation of [...body].reverse()) {
            if (seen.has(activation.activationId)) continue;
            seen.set(activation.activationId, activation.start ?? since);
            runtime.io.stdout(ctx.out.json ? `${JSON.stringify(activation)}\n` : `${pollLine(activation)}\n`);
          }
          // Keep the window, and so the memory of ids seen, bounded in a long poll.
          since = Math.max(since, Math.max(0, ...seen.values()) - LOOKBACK_MS);
          for (const [id, start] of seen) if (start < since) seen.delete(id);
          await pause(Math.min(flags.interval, Math.max(0, deadline - Date.now())), watch.requested);
        }
      } finally {
        watch.dispose();
      }
    });
}

function pollLine(activation: ActivationSummary): string {
  const duration = formatDuration(activation.duration);
  return [formatTime(activation.start), activation.activationId, activation.name ?? '', statusOf(activation), duration].join('  ').trimEnd();
}

/** Waits `ms`, or less if `interrupt` settles first; leaves no timer behind. */
async function pause(ms: number, interrupt: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), interrupt]);
  clearTimeout(timer);
}
