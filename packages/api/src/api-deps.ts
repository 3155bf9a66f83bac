import type { ActivationStore, EventBus, KeyValueStore, Logger } from '@kindling/core';
import type { HookRequest, HookResponse } from '@kindling/sdk';
import type { ProviderRegistry } from '@kindling/host';

/**
 * Routes `POST /hooks/<provider>/<feed id>` to the feed that owns it. Core's `FeedHost` has
 * exactly this method; a distributed deployment can forward to the host that holds the lease.
 */
export interface HookDispatcher {
  dispatchHook(provider: string, feedId: string, request: HookRequest): Promise<HookResponse>;
}

/**
 * Checks a rule's `filter` before the rule is stored (the rules package exports
 * `compileRuleFilter`); throws a `KindlingError` naming the problem. The API does not depend on
 * the rule engine, so the caller injects it.
 */
export type RuleFilterValidator = (filter: Record<string, unknown>) => void;

export interface ApiDeps {
  store: KeyValueStore;
  bus: EventBus;
  /** Where activation records go; default the bounded store on `store` (`KeyValueActivationStore`). */
  activations?: ActivationStore;
  registry: ProviderRegistry;
  log: Logger;
  hooks: HookDispatcher;
  /** Base URL the outside world reaches this API at (hook URLs are built on it). */
  publicUrl: string;
  /** Largest request body on `/api/v1`; default 1 MB (OpenWhisk's payload limit). */
  bodyLimitBytes?: number;
  /** Largest webhook body on `/hooks`; default 25 MB (GitHub's limit). */
  hookBodyLimitBytes?: number;
  /** Default and largest wait of a blocking invoke; default 60 s (OpenWhisk's). */
  blockingTimeoutMs?: number;
  validateRuleFilter?: RuleFilterValidator;
}
