import { connect, type Socket } from 'node:net';
import { sleep, z } from '@kindling/core';
import {
  defineProvider,
  polling,
  SDK_VERSION,
  type FeedContext,
  type FeedInstance,
  type FeedKindDefinition,
  type ProviderDefinition,
} from '@kindling/sdk';
import { MemorySource } from './memory-source.js';

/**
 * Providers for the kit's own tests, over a `MemorySource`: one that keeps every rule, one that
 * keeps every rule over a subscription, and one per rule that breaks it the way real providers do.
 */
export const memoryParams = z.strictObject({
  source: z.string(),
  token: z.string().optional(),
  intervalMs: z.number().int().positive().default(1000),
  /** For the socket-leaking provider: a loopback port to connect to. */
  port: z.number().int().optional(),
});
export type MemoryParams = z.output<typeof memoryParams>;

/** What the broken providers leak on purpose, for the test file to clean up afterwards. */
const leaks = new Set<() => void>();

export function cleanUpLeaks(): void {
  for (const cleanUp of leaks) cleanUp();
  leaks.clear();
}

interface MemoryCursor {
  seq: number;
}

function memoryProvider(name: string, kind: Omit<FeedKindDefinition<MemoryParams>, 'params' | 'description' | 'secrets'>): ProviderDefinition {
  return defineProvider({
    name,
    sdkVersion: SDK_VERSION,
    kinds: { items: { description: 'fires for each new item of a memory source', params: memoryParams, secrets: ['token'], ...kind } },
  });
}

/** Keeps every rule: the core polling pattern, a cursor, ids from the items' identity. */
export const correctPolling = memoryProvider('correct-polling', {
  pattern: 'polling',
  start: polling<MemoryParams, MemoryCursor>({
    intervalMs: (params) => params.intervalMs,
    async poll(feed, ctx, cursor) {
      const source = MemorySource.named(feed.params.source);
      const items = source.after(cursor?.seq ?? 0);
      ctx.log.debug({ items: items.length, after: cursor?.seq ?? 0 }, 'polled');
      return {
        events: items.map((item) => ({ data: { key: item.key }, id: item.key })),
        cursor: { seq: items.at(-1)?.seq ?? cursor?.seq ?? 0 },
      };
    },
  }),
});

/** Keeps every rule over a subscription: fires each announced item, reports a failed fire. */
export const correctSubscription = memoryProvider('correct-subscription', {
  pattern: 'connection',
  start(feed, ctx) {
    const source = MemorySource.named(feed.params.source);
    const onItem = (item: { key: string }) => {
      ctx.fire({ key: item.key }, { id: item.key }).catch((error) => {
        if (!ctx.signal.aborted) ctx.fail(error);
      });
    };
    source.on('item', onItem);
    return { stop: () => void source.off('item', onItem) };
  },
});

/** A loop of its own around a poll: how most hand-written pollers look. */
function pollLoop(
  feed: FeedInstance<MemoryParams>,
  ctx: FeedContext,
  body: (source: MemorySource, position: { seq: number }) => Promise<void>,
  options: { honourAbort?: boolean; start?: (source: MemorySource) => Promise<number> } = {},
) {
  const source = MemorySource.named(feed.params.source);
  const position = { seq: 0 };
  const loop = (async () => {
    position.seq = options.start ? await options.start(source) : ((await ctx.cursor.get<MemoryCursor>())?.seq ?? 0);
    while (options.honourAbort === false || !ctx.signal.aborted) {
      try {
        await body(source, position);
      } catch (error) {
        if (ctx.signal.aborted) return;
        ctx.fail(error);
        return;
      }
      if (options.honourAbort === false) await sleep(ctx.clock, feed.params.intervalMs);
      else await sleep(ctx.clock, feed.params.intervalMs, ctx.signal).catch(() => undefined);
    }
  })();
  return loop;
}

/** Fires each new item with its key as id, then stores the cursor. */
async function fireNew(ctx: FeedContext, source: MemorySource, position: { seq: number }, id: (key: string) => string | undefined = (key) => key): Promise<void> {
  for (const item of source.after(position.seq)) {
    const eventId = id(item.key);
    await ctx.fire({ key: item.key }, eventId === undefined ? {} : { id: eventId });
    position.seq = item.seq;
  }
  await ctx.cursor.set<MemoryCursor>({ seq: position.seq });
}

/** Breaks KIT_DOES_NOT_FIRE: polls, moves its cursor, forgets to fire. */
export const neverFires = memoryProvider('never-fires', {
  start(feed, ctx) {
    const loop = pollLoop(feed, ctx, async (source, position) => {
      position.seq = source.items.length;
      await ctx.cursor.set({ seq: position.seq });
    });
    return { stop: () => loop };
  },
});

/** Breaks KIT_FIRES_WHILE_PAUSED (and after delete): stop() returns at once and the poller goes on. */
export const ignoresStop = memoryProvider('ignores-stop', {
  start(feed, ctx) {
    const source = MemorySource.named(feed.params.source);
    let seq = 0;
    const timer = setInterval(() => {
      for (const item of source.after(seq)) {
        seq = item.seq;
        ctx.fire({ key: item.key }, { id: item.key }).catch(() => undefined);
      }
    }, 5);
    leaks.add(() => clearInterval(timer));
    return { stop() {} };
  },
});

/** Breaks KIT_FIRES_AFTER_DELETE: the stop of a resumed feed (generation 3 on) forgets its poller. */
export const forgetsResumedFeed = memoryProvider('forgets-resumed', {
  start(feed, ctx) {
    const source = MemorySource.named(feed.params.source);
    let seq = source.items.length;
    const timer = setInterval(() => {
      for (const item of source.after(seq)) {
        seq = item.seq;
        ctx.fire({ key: item.key }, { id: item.key }).catch(() => undefined);
      }
    }, 5);
    leaks.add(() => clearInterval(timer));
    return {
      stop() {
        if (feed.generation < 3) clearInterval(timer);
      },
    };
  },
});

/** Breaks KIT_LOSES_CURSOR: keeps its position in memory only, so a restart starts from the beginning. */
export const memoryOnlyCursor = memoryProvider('memory-cursor', {
  start(feed, ctx) {
    const loop = pollLoop(feed, ctx, async (source, position) => {
      for (const item of source.after(position.seq)) {
        await ctx.fire({ key: item.key }, { id: item.key });
        position.seq = item.seq;
      }
    }, { start: async () => 0 });
    return { stop: () => loop };
  },
});

/** Breaks KIT_FIRES_TWICE: gives ctx.fire no id, so a redelivered event is a new one. */
export const randomIds = memoryProvider('random-ids', {
  start(feed, ctx) {
    const loop = pollLoop(feed, ctx, (source, position) => fireNew(ctx, source, position, () => undefined));
    return { stop: () => loop };
  },
});

/** Breaks KIT_LEAKS_TIMER: a heartbeat interval that stop() forgets. */
export const leaksTimer = memoryProvider('leaks-timer', {
  start(feed, ctx) {
    const heartbeat = setInterval(() => ctx.log.trace('still here'), 60_000);
    leaks.add(() => clearInterval(heartbeat));
    const loop = pollLoop(feed, ctx, (source, position) => fireNew(ctx, source, position));
    return { stop: () => loop };
  },
});

/** Breaks KIT_LEAKS_TIMER through the clock: a retry timer on ctx.clock that stop() forgets. */
export const leaksClockTimer = memoryProvider('leaks-clock-timer', {
  start(feed, ctx) {
    ctx.clock.setTimeout(() => undefined, 3_600_000);
    const loop = pollLoop(feed, ctx, (source, position) => fireNew(ctx, source, position));
    return { stop: () => loop };
  },
});

/** Breaks KIT_LEAKS_HANDLE: a connection to its "server" that stop() never closes. */
export const leaksSocket = memoryProvider('leaks-socket', {
  async start(feed, ctx) {
    const socket: Socket = connect({ host: '127.0.0.1', port: feed.params.port ?? 0 });
    socket.on('error', () => undefined);
    leaks.add(() => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const loop = pollLoop(feed, ctx, (source, position) => fireNew(ctx, source, position));
    return { stop: () => loop };
  },
});

/**
 * Breaks KIT_LOGS_SECRET: prints the token it polls with. (Through `ctx.log` the host would have
 * scrubbed it; around it, nothing does.)
 */
export const logsSecret = memoryProvider('logs-secret', {
  start(feed, ctx) {
    console.info(`polling ${feed.params.source} with token ${feed.params.token ?? ''}`);
    const loop = pollLoop(feed, ctx, (source, position) => fireNew(ctx, source, position));
    return { stop: () => loop };
  },
});

/** Breaks KIT_THROWS_OUT_OF_HANDLER: an async listener whose failed fire nobody catches. */
export const throwsFromListener = memoryProvider('throws-from-listener', {
  start(feed, ctx) {
    const source = MemorySource.named(feed.params.source);
    const onItem = async (item: { key: string }) => {
      await ctx.fire({ key: item.key }, { id: item.key });
    };
    // The rule this provider breaks on purpose: a listener's rejected promise that nobody handles.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    source.on('item', onItem);
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    return { stop: () => void source.off('item', onItem) };
  },
});

/** Breaks KIT_IGNORES_ABORT: sleeps without the signal, and stop() waits for the loop to notice. */
export const ignoresAbort = memoryProvider('ignores-abort', {
  start(feed, ctx) {
    const loop = pollLoop(feed, ctx, (source, position) => fireNew(ctx, source, position), { honourAbort: false });
    return { stop: () => loop };
  },
});

/** Breaks KIT_LOSES_EVENT: moves its cursor before firing, and swallows a failed fire. */
export const acksBeforeDurable = memoryProvider('acks-early', {
  start(feed, ctx) {
    const loop = pollLoop(feed, ctx, async (source, position) => {
      const items = source.after(position.seq);
      position.seq = items.at(-1)?.seq ?? position.seq;
      await ctx.cursor.set({ seq: position.seq });
      for (const item of items) {
        await ctx.fire({ key: item.key }, { id: item.key }).catch((error) => ctx.log.warn({ err: String(error) }, 'fire failed'));
      }
    });
    return { stop: () => loop };
  },
});
