import { SECRET_MASK, type FeedContext, type FeedHandle, type FeedInstance, type TeardownContext } from '@kindling/sdk';
import { createDeliveryHandler } from './delivery-handler.js';
import { loadOrCreateFeedState, readFeedState } from './feed-state.js';
import { githubFailure } from './github-failure.js';
import { GitHubHooksApi, hooksPathOf } from './github-hooks-api.js';
import { HookRegistrar } from './hook-registrar.js';
import { keepHookRegistered } from './registration-keeper.js';
import { apiUrlOf, eventSelectorOf, hookTargetOf, targetName, type HookTarget, type WebhookParams } from './webhook-params.js';

function describeTarget(target: HookTarget): string {
  return target.kind === 'repository' ? `repository ${targetName(target)}` : `organization ${target.org}`;
}

/**
 * Starts a `github/webhook` feed: loads (or generates and stores) its webhook secret, answers
 * deliveries at once, and — with an access token — keeps its hook registered on GitHub.
 */
export async function startWebhookFeed(feed: FeedInstance<WebhookParams>, ctx: FeedContext): Promise<FeedHandle> {
  const { params } = feed;
  const state = await loadOrCreateFeedState(ctx.cursor);
  const target = hookTargetOf(params);
  const selector = eventSelectorOf(params);
  const hook = createDeliveryHandler({ secret: state.secret, selector, defaultSubject: targetName(target) }, ctx);
  const token = params.accessToken;
  if (token === undefined) {
    ctx.log.info({ hookUrl: ctx.hookUrl, events: selector.hookEvents() }, 'no access token: add the hook in GitHub by hand (READ of the feed shows its URL and secret)');
    return { hook, stop() {} };
  }
  const apiUrl = apiUrlOf(params);
  const apiFor = (path: string, url: string) => new GitHubHooksApi({ apiUrl: url, token, path, log: ctx.log, signal: ctx.signal });
  const registrar = new HookRegistrar(apiFor(hooksPathOf(target), apiUrl), { url: ctx.hookUrl, secret: state.secret, events: selector.hookEvents() }, apiUrl, ctx.log);
  const keeper = keepHookRegistered({ registrar, apiFor, state, where: describeTarget(target), secrets: [token, state.secret], ctx });
  return { hook, stop: () => keeper.stop() };
}

/** DELETE: removes exactly the hook this feed registered (by its stored id); one already gone is fine. */
export async function teardownWebhookFeed(feed: FeedInstance<WebhookParams>, ctx: TeardownContext): Promise<void> {
  const { params } = feed;
  const state = await readFeedState(ctx.cursor);
  const token = params.accessToken;
  const target = hookTargetOf(params);
  if (token === undefined) {
    if (state?.hook) ctx.log.warn({ hookId: state.hook.id }, 'no access token to remove the hook with: delete it on GitHub');
    return;
  }
  const stored = state?.hook;
  const api = new GitHubHooksApi({ apiUrl: stored?.apiUrl ?? apiUrlOf(params), token, path: stored?.path ?? hooksPathOf(target), log: ctx.log, signal: ctx.signal });
  const secrets = [token, ...(state ? [state.secret] : [])];
  try {
    // With no id stored (a start that crashed between creating the hook and storing its id), the
    // hook is found by its URL, which holds this feed's unique id.
    const ids = stored ? [stored.id] : (await api.list()).filter((hook) => hook.config.url === ctx.hookUrl).map((hook) => hook.id);
    for (const id of ids) {
      const removed = await api.delete(id);
      ctx.log.info({ hookId: id, removed }, removed ? 'removed the hook from GitHub' : 'the hook was already gone from GitHub');
    }
  } catch (error) {
    throw githubFailure(error, 'removing the hook', describeTarget(target), secrets, Date.now()).error;
  }
}

/**
 * READ: where GitHub must send deliveries, and the secret to sign them with. The secret is shown
 * only when the user must paste it into GitHub (no access token); otherwise it stays masked.
 */
export async function describeWebhookFeed(feed: FeedInstance<WebhookParams>, ctx: TeardownContext): Promise<Record<string, unknown>> {
  const { params } = feed;
  const state = await readFeedState(ctx.cursor);
  const selector = eventSelectorOf(params);
  const managed = params.accessToken !== undefined;
  const target = hookTargetOf(params);
  const details: Record<string, unknown> = {
    target: describeTarget(target),
    payloadUrl: ctx.hookUrl,
    contentType: 'application/json',
    secret: state === undefined ? null : managed ? SECRET_MASK : state.secret,
    hookEvents: selector.hookEvents(),
    events: selector.entries,
  };
  if (state === undefined) {
    details.note = 'the secret is generated when the feed first starts: read the feed again in a moment';
  } else if (managed) {
    details.hookId = state.hook?.id ?? null;
    details.registration = 'managed: the provider registers this hook on GitHub, and repairs it if it is changed or deleted there';
  } else {
    const settings = target.kind === 'repository' ? `https://github.com/${targetName(target)}/settings/hooks/new` : `https://github.com/organizations/${target.org}/settings/hooks/new`;
    details.registration = `by hand: on ${settings} (or your GitHub Enterprise server), set Payload URL to payloadUrl, Content type to application/json, Secret to secret, and choose the events ${selector.hookEvents().join(', ')}`;
  }
  return details;
}
