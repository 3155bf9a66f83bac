import type { z } from 'zod';
import type { Clock, CloudEvent, Logger } from '@kindling/core';

/** The SDK version this core implements; a provider declares the one it was written for. */
export const SDK_VERSION = 1;
export const SUPPORTED_SDK_VERSIONS: readonly number[] = [1];

/** What a provider package exports (default export, or a named `provider` export). */
export interface ProviderDefinition {
  /** Lowercase name, used in `/whisk.system/<name>/<kind>` and `/hooks/<name>/<feed id>`. */
  name: string;
  sdkVersion: number;
  description?: string;
  kinds: Record<string, FeedKindDefinition<any>>;
}

export interface FeedKindDefinition<P = Record<string, unknown>> {
  description: string;
  /** Parameter schema (zod). Validated before anything is stored; unknown fields are refused. */
  params: z.ZodType<P>;
  /** Names of parameters that are secrets: redacted in logs, masked on READ. */
  secrets?: readonly string[];
  /** Which pattern the kind follows; documentation only, shown by `kindling provider list`. */
  pattern?: 'connection' | 'hook' | 'polling' | 'timer';
  /** Checks beyond the schema (cross-field, or reaching the source): throw `FeedParamError`. */
  validate?(params: P, ctx: ValidateContext): Promise<void> | void;
  /** Starts the feed. Called again (after `stop`) on every new generation and after failures. */
  start(feed: FeedInstance<P>, ctx: FeedContext): Promise<FeedHandle> | FeedHandle;
  /** Removes what the feed created outside Kindling (a registered hook, a replication slot). */
  teardown?(feed: FeedInstance<P>, ctx: TeardownContext): Promise<void>;
  /** Extra, non-secret facts for READ (the hook URL, a slot's lag). */
  describe?(feed: FeedInstance<P>, ctx: TeardownContext): Promise<Record<string, unknown>>;
}

export interface FeedInstance<P = Record<string, unknown>> {
  id: string;
  namespace: string;
  trigger: string;
  provider: string;
  kind: string;
  params: P;
  generation: number;
}

export interface FeedHandle {
  /** Stops the feed: close connections, clear timers. Must not fire afterwards. */
  stop(): Promise<void> | void;
  /** For hook feeds: answers a POST to `/hooks/<provider>/<feed id>`. */
  hook?(request: HookRequest): Promise<HookResponse>;
}

export interface FireOptions {
  /** Deterministic id where the source gives identity: a redelivery then fires once. */
  id?: string;
  time?: Date | string | number;
  subject?: string;
  /** CloudEvent type; defaults to `dev.kindling.<provider>.<kind>`. */
  type?: string;
  source?: string;
}

export interface FireReceipt {
  event: CloudEvent;
  /** True when the bus had already stored an event with this id. */
  duplicate: boolean;
}

export interface CursorStore {
  get<T = unknown>(): Promise<T | undefined>;
  /** Stores the cursor; resolves once it is durable. */
  set<T = unknown>(value: T): Promise<void>;
}

export interface SharedResources {
  /**
   * A resource shared by the feeds of this provider on this host (one broker connection for
   * many feeds). Created on first use, disposed when the last feed using it stops.
   */
  acquire<T>(key: string, create: () => Promise<T>, dispose: (resource: T) => Promise<void>): Promise<T>;
}

export interface ValidateContext {
  log: Logger;
  signal: AbortSignal;
}

export interface TeardownContext {
  log: Logger;
  signal: AbortSignal;
  cursor: CursorStore;
  /** `<public url>/hooks/<provider>/<feed id>`. */
  hookUrl: string;
}

export interface FeedContext {
  /** Fires the trigger; resolves only once the event is durable on the bus. */
  fire<T = unknown>(data: T, options?: FireOptions): Promise<FireReceipt>;
  cursor: CursorStore;
  /** Structured logger bound to this feed; declared secrets are redacted. */
  log: Logger;
  /** Aborted when the feed stops. */
  signal: AbortSignal;
  clock: Clock;
  resources: SharedResources;
  /** `<public url>/hooks/<provider>/<feed id>`. */
  hookUrl: string;
  /**
   * Reports that the feed cannot go on. A retryable error (`FeedError` with retryable, or any
   * other error) puts it in `failing` and it is restarted with backoff; an unrecoverable
   * `FeedError` disables it. The host stops the handle; the provider does nothing more.
   */
  fail(error: unknown): void;
  /**
   * For feeds that recover by themselves (a client that reconnects): mark the feed `failing`
   * with a reason, without restarting it, until `healthy()` is called.
   */
  degraded(reason: string): void;
  healthy(): void;
  /**
   * The feed has nothing more to do (a one-off alarm fired, a `maxTriggers` was reached). The
   * host stops it and marks it `disabled` with the reason; with `deleteTrigger`, it deletes the
   * trigger and the feed instead (`'rules'`: the trigger's rules too), as OpenWhisk's
   * `deleteAfterFire` does.
   */
  complete(reason: string, options?: CompleteOptions): void;
}

export interface CompleteOptions {
  deleteTrigger?: boolean | 'rules';
}

export interface HookRequest {
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** The raw body, unparsed: signatures are computed over it. */
  body: Buffer;
  query: Record<string, string | undefined>;
}

export interface HookResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
