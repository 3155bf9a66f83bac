import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { randomId, type HookResponse } from '@kindling/sdk';
import { describeProviderConformance, type SourceContext } from '@kindling/provider-testkit';
import { githubProvider } from './github-provider.js';
import { FakeGitHubApi } from './testing/fake-github-api.js';

/**
 * The github provider against the conformance kit. With an access token it registers its hook on
 * a loopback stand-in of GitHub's REST API, which keeps the hook's secret; an event is a `push`
 * delivery signed with that secret, posted to the feed's hook as the API routes it, with the
 * kit's token as its X-GitHub-Delivery id. Like GitHub's own "Redeliver", the source sends a
 * delivery again when it was not answered with a 2xx, and a redelivery repeats its id.
 */
const REPOSITORY = 'octo/hello';
const TOKEN = `ghp_kit${randomId(8)}`;

describe('github provider', () => {
  const github = new FakeGitHubApi().addOwner(REPOSITORY).addToken(TOKEN);

  beforeAll(async () => {
    await github.start();
  });

  afterAll(async () => {
    await github.stop();
  });

  async function deliver(ctx: SourceContext, delivery: string): Promise<HookResponse> {
    const hookUrlSuffix = `/hooks/github/${ctx.feed.id}`;
    const hook = github.hooksOf(REPOSITORY).find((h) => h.config.url.endsWith(hookUrlSuffix));
    // No hook registered (the feed is deleted): GitHub has nowhere to send the push.
    if (!hook?.config.secret) return { status: 404 };
    const body = JSON.stringify({ ref: 'refs/heads/main', after: delivery, repository: { full_name: REPOSITORY }, pusher: { name: 'octocat' } });
    const signature = `sha256=${createHmac('sha256', hook.config.secret).update(body).digest('hex')}`;
    const request = { body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': signature } };
    let response = await ctx.hook(request);
    for (let attempt = 1; attempt < 3 && response.status >= 500; attempt++) response = await ctx.hook(request);
    return response;
  }

  describeProviderConformance(
    {
      provider: githubProvider,
      kind: 'webhook',
      params: () => ({ repository: REPOSITORY, events: 'push', accessToken: TOKEN, baseUrl: github.url }),
      source: {
        emit: async (ctx) => void (await deliver(ctx, ctx.token)),
        redeliver: async (token, ctx) => void (await deliver(ctx, token)),
        // GitHub keeps no deliveries for a receiver that is down.
        replaysWhileStopped: false,
      },
    },
    { describe, it, beforeAll },
  );
});
