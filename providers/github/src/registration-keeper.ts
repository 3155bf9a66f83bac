import { backoffDelay, FeedError, messageOf, scrubSecrets, sleep, type FeedContext } from '@kindling/sdk';
import type { WebhookFeedState } from './feed-state.js';
import { githubFailure, type GitHubFailure } from './github-failure.js';
import type { GitHubHooksApi } from './github-hooks-api.js';
import type { HookRegistrar } from './hook-registrar.js';

/** How often the registered hook is checked (one GET) and repaired if someone changed or deleted it. */
export const REPAIR_INTERVAL_MS = 5 * 60_000;

export interface RegistrationKeeperOptions {
  registrar: HookRegistrar;
  /** Opens the hooks API where an earlier generation registered its hook (another repository, say). */
  apiFor(path: string, apiUrl: string): GitHubHooksApi;
  state: WebhookFeedState;
  /** `octo/hello` or `organization octo`, for messages. */
  where: string;
  /** Values to scrub from every message: the token and the webhook secret. */
  secrets: readonly string[];
  ctx: FeedContext;
  repairIntervalMs?: number;
}

export interface RegistrationKeeper {
  stop(): Promise<void>;
}

/** GitHub's `RequestError` (a network failure is one too, with status 500); anything else is ours. */
function isGitHubError(error: unknown): boolean {
  return typeof (error as { status?: unknown })?.status === 'number' && (error as { name?: unknown }).name === 'HttpError';
}

/**
 * Keeps the feed's hook registered while the feed runs, in the background so that deliveries are
 * answered meanwhile: registers (or updates, or adopts) it at once, then every few minutes checks
 * it with one GET and repairs it when it was deleted or changed by hand. A refused token or a
 * missing repository disables the feed with GitHub's reason; a rate limit or an outage marks it
 * failing — deliveries still fire — and is retried (after the rate limit's reset).
 */
export function keepHookRegistered(options: RegistrationKeeperOptions): RegistrationKeeper {
  const { registrar, state, ctx } = options;
  const repairIntervalMs = options.repairIntervalMs ?? REPAIR_INTERVAL_MS;
  const scrub = (text: string) => scrubSecrets(text, options.secrets);

  async function retireMovedHook(): Promise<void> {
    const previous = state.hook;
    if (!previous || registrar.owns(previous)) return;
    try {
      const removed = await options.apiFor(previous.path, previous.apiUrl).delete(previous.id);
      ctx.log.info({ hookId: previous.id, removed }, 'removed the hook of the previous repository or organisation');
    } catch (error) {
      ctx.log.warn({ hookId: previous.id, path: previous.path, err: scrub(messageOf(error)) }, 'could not remove the hook of the previous repository or organisation; remove it on GitHub');
    }
    delete state.hook;
    await ctx.cursor.set(state);
  }

  async function register(doing: string): Promise<void> {
    const { hook, outcome } = await registrar.ensure(state.hook);
    if (state.hook?.id !== hook.id) {
      state.hook = hook;
      await ctx.cursor.set(state);
    }
    ctx.log.info({ hookId: hook.id, outcome }, `${doing}: hook ${outcome}`);
  }

  function failureOf(error: unknown, doing: string): GitHubFailure {
    if (isGitHubError(error)) return githubFailure(error, doing, options.where, options.secrets, ctx.clock.now());
    return { error: new FeedError(scrub(`${doing} on ${options.where} failed: ${messageOf(error)}`), { retryable: true, cause: error }) };
  }

  const loop = (async () => {
    let registered = false;
    let failures = 0;
    while (!ctx.signal.aborted) {
      let delay = repairIntervalMs;
      const doing = registered ? 'checking the hook' : 'registering the hook';
      try {
        if (!registered) {
          await retireMovedHook();
          await register(doing);
          registered = true;
        } else {
          const drift = state.hook ? await registrar.check(state.hook) : ['missing'];
          if (drift.length > 0) {
            ctx.log.warn({ hookId: state.hook?.id, drift }, 'the hook was changed or deleted on GitHub; repairing it');
            await register('repairing the hook');
          }
        }
        failures = 0;
        ctx.healthy();
      } catch (error) {
        if (ctx.signal.aborted) break;
        const failure = failureOf(error, doing);
        if (!failure.error.retryable) {
          ctx.fail(failure.error);
          break;
        }
        failures += 1;
        ctx.log.warn({ reason: failure.error.message, failures }, 'hook registration failing; retrying');
        ctx.degraded(failure.error.message);
        const untilReset = failure.retryAt === undefined ? 0 : failure.retryAt - ctx.clock.now();
        delay = Math.max(backoffDelay(failures, { initialMs: 5_000, maxMs: repairIntervalMs }), untilReset);
      }
      await sleep(ctx.clock, delay, ctx.signal).catch(() => undefined);
    }
  })();

  return {
    async stop() {
      await loop;
    },
  };
}
