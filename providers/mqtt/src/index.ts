export { mqttProvider, mqttProvider as default } from './mqtt-provider.js';
export { subscriptionParams, SUBSCRIPTION_SECRETS, DEFAULT_MAX_PAYLOAD_BYTES, type SubscriptionParams } from './subscription-params.js';
export type { MqttEventData } from './subscription-feed.js';
export { topicMatches, parseSubscription, topicFilterProblem } from './topic-filter.js';
