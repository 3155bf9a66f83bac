export { githubProvider, githubProvider as default } from './github-provider.js';
export {
  webhookParams,
  WEBHOOK_SECRETS,
  DEFAULT_EVENTS,
  DEFAULT_GITHUB_API_URL,
  hookTargetOf,
  type HookTarget,
  type WebhookParams,
} from './webhook-params.js';
export { EventSelector, eventEntries, eventEntryProblem } from './github-events.js';
export { REPAIR_INTERVAL_MS } from './registration-keeper.js';
export { TRIMMED_PAYLOAD_BUDGET_BYTES, type TruncationNote } from './trim-payload.js';
export type { WebhookFeedState, RegisteredHook } from './feed-state.js';
