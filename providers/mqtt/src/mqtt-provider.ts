import { defineFeedKind, defineProvider, SDK_VERSION } from '@kindling/sdk';
import { startSubscription } from './subscription-feed.js';
import { SUBSCRIPTION_SECRETS, subscriptionParams, type SubscriptionParams } from './subscription-params.js';

/**
 * The MQTT provider: `mqtt/subscription` feeds subscribe to topic filters on a broker and fire
 * one trigger event per message, acknowledged to the broker only once the event is durable.
 */
export const mqttProvider = defineProvider({
  name: 'mqtt',
  sdkVersion: SDK_VERSION,
  description: 'MQTT broker subscriptions for IoT sensor pipelines',
  kinds: {
    subscription: defineFeedKind<SubscriptionParams>({
      description: 'Fires one event per message published on MQTT topics matching the filters',
      params: subscriptionParams,
      secrets: SUBSCRIPTION_SECRETS,
      pattern: 'connection',
      start: startSubscription,
    }),
  },
});

export default mqttProvider;
