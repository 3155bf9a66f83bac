import type { ActivationStore, EntityStore, Logger } from '@kindling/core';
import type { ApiDeps } from './api-deps.js';
import type { NamespaceStore } from './auth/namespace-store.js';
import type { ApiMetrics } from './http/api-metrics.js';
import type { ActionInvoker } from './services/action-invoker.js';
import type { FeedService } from './services/feed-service.js';

/** What every route module is given: the dependencies and the stores opened once at start. */
export interface ApiContext {
  deps: ApiDeps;
  log: Logger;
  entities: EntityStore;
  activations: ActivationStore;
  namespaces: NamespaceStore;
  feeds: FeedService;
  invoker: ActionInvoker;
  metrics: ApiMetrics;
  /** Default and largest wait of a blocking invoke. */
  blockingTimeoutMs: number;
}
