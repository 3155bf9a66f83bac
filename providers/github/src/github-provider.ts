import { defineFeedKind, defineProvider, SDK_VERSION } from '@kindling/sdk';
import { describeWebhookFeed, startWebhookFeed, teardownWebhookFeed } from './webhook-feed.js';
import { WEBHOOK_SECRETS, webhookParams, type WebhookParams } from './webhook-params.js';

/**
 * The GitHub provider: `github/webhook` feeds receive signed deliveries at
 * `/hooks/github/<feed id>` and fire one event per delivery; given an access token, they
 * register the hook on GitHub themselves and keep it there.
 */
export const githubProvider = defineProvider({
  name: 'github',
  sdkVersion: SDK_VERSION,
  description: 'GitHub webhooks: signed deliveries become events; hooks registered and repaired for you',
  kinds: {
    webhook: defineFeedKind<WebhookParams>({
      description: 'Fires one event per GitHub webhook delivery of a repository or organisation (type com.github.<event>.<action>)',
      params: webhookParams,
      secrets: WEBHOOK_SECRETS,
      pattern: 'hook',
      start: startWebhookFeed,
      teardown: teardownWebhookFeed,
      describe: describeWebhookFeed,
    }),
  },
});

export default githubProvider;
