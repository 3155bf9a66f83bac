export { createApi, DEFAULT_BLOCKING_TIMEOUT_MS, DEFAULT_HOOK_BODY_LIMIT } from './create-api.js';
export type { ApiDeps, HookDispatcher, RuleFilterValidator } from './api-deps.js';
export { NamespaceStore, generateAuthKey, parseAuthKey, type AuthKey, type NamespaceRecord } from './auth/namespace-store.js';
export type { ErrorBody } from './http/error-reply.js';
export { FEED_LIFECYCLE_EVENTS, feedActionName, type FeedLifecycleEvent, type FeedStatusView, type FeedView } from './services/feed-service.js';
export type { ProviderView, FeedKindView } from './routes/provider-routes.js';
