import { sleep } from '@kindling/core';
import type { FeedContext, FeedHandle, FeedInstance, FireOptions, HookRequest, HookResponse } from './types.js';

export interface PolledEvent<T = unknown> extends FireOptions {
  data: T;
}

export interface PollResult<C> {
  events: PolledEvent[];
  /** The cursor after these events; stored only once they are all durable. */
  cursor: C;
}

export interface PollingOptions<P, C> {
  intervalMs(params: P): number;
  poll(feed: FeedInstance<P>, ctx: FeedContext, cursor: C | undefined): Promise<PollResult<C>>;
}

/**
 * The polling pattern: fetch with a cursor on an interval. Events fire in order, each awaited
 * until durable, and the cursor is stored after them, so a crash repeats at most the last poll;
 * give events a stable `id` and the repeat is absorbed.
 */
export function polling<P, C>(options: PollingOptions<P, C>) {
  return (feed: FeedInstance<P>, ctx: FeedContext): FeedHandle => {
    const loop = (async () => {
      while (!ctx.signal.aborted) {
        try {
          const cursor = await ctx.cursor.get<C>();
          const result = await options.poll(feed, ctx, cursor);
          for (const event of result.events) {
            const { data, ...fireOptions } = event;
            await ctx.fire(data, fireOptions);
          }
          await ctx.cursor.set(result.cursor);
          ctx.healthy();
        } catch (error) {
          if (ctx.signal.aborted) return;
          ctx.fail(error);
          return;
        }
        await sleep(ctx.clock, options.intervalMs(feed.params), ctx.signal).catch(() => undefined);
      }
    })();
    return {
      async stop() {
        await loop;
      },
    };
  };
}

/**
 * The hook pattern: the platform routes `POST /hooks/<provider>/<feed id>` to `handle`. The
 * handler verifies the request, fires (awaiting durability) and answers; the platform answers
 * 503 if it throws, so that the sender retries.
 */
export function hook<P>(handle: (request: HookRequest, feed: FeedInstance<P>, ctx: FeedContext) => Promise<HookResponse>) {
  return (feed: FeedInstance<P>, ctx: FeedContext): FeedHandle => ({
    stop() {},
    hook: (request) => handle(request, feed, ctx),
  });
}

export interface ConnectionOptions<P, T> {
  /** Opens the connection and starts delivering to `ctx.fire`. */
  connect(feed: FeedInstance<P>, ctx: FeedContext): Promise<T>;
  close(connection: T): Promise<void>;
}

/**
 * The connection pattern: hold a subscription open while the feed runs. A failure to connect is
 * reported through `ctx.fail` (the host retries with backoff); a client that reconnects by
 * itself should call `ctx.degraded(reason)` and `ctx.healthy()` as its state changes.
 */
export function connection<P, T>(options: ConnectionOptions<P, T>) {
  return async (feed: FeedInstance<P>, ctx: FeedContext): Promise<FeedHandle> => {
    const conn = await options.connect(feed, ctx);
    return {
      async stop() {
        await options.close(conn);
      },
    };
  };
}
