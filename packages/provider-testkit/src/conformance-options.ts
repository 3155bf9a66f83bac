import { KindlingError, parseWith, z, type CloudEvent } from '@kindling/core';
import type { FeedInstance, HookResponse, ProviderDefinition } from '@kindling/sdk';
import type { FakeClock } from './fake-clock.js';
import { RULE_IDS, type RuleId } from './rules.js';

/** What a source adapter gets each time the kit asks it for an event. */
export interface SourceContext {
  /** The fake clock the host and the feed run on: a time-driven source moves it. */
  clock: FakeClock;
  /** The feed the kit created (its id, trigger and validated params). */
  feed: FeedInstance<Record<string, unknown>>;
  /** A fresh, unique text: put it in the event (a message body, a row, an item id) so the kit can find it. */
  token: string;
  /**
   * Posts to the feed's hook as the platform routes `POST /hooks/<provider>/<feed id>`; a thrown
   * error comes back as its HTTP status (503 for a provider's throw), as the API answers it.
   */
  hook(request: { body: string | Buffer | object; headers?: Record<string, string>; query?: Record<string, string> }): Promise<HookResponse>;
}

/**
 * The provider author's adapter to their source: the kit cannot know how to make an MQTT broker,
 * a table or a web service produce an event, so the test tells it.
 */
export interface ConformanceSource {
  /**
   * Makes the source produce one new event, carrying `ctx.token` (put it in the message, the row,
   * the item). A source whose events carry an identity of their own (an alarm's scheduled time)
   * returns the text its event will carry instead.
   */
  emit(ctx: SourceContext): Promise<string | void>;
  /**
   * Makes the source deliver the event `token` again, with the same identity (a message redelivered,
   * the same item listed again). Optional: without it, duplicates are provoked only by a failed
   * cursor write.
   */
  redeliver?(token: string, ctx: SourceContext): Promise<void>;
  /** Whether a fired event is the one that carries `token`. Default: the token occurs in the event's JSON. */
  carries?(event: CloudEvent | Record<string, unknown>, token: string): boolean;
  /**
   * `at-least-once` (default): an event whose publish failed must fire later (the source is not
   * acknowledged, or the cursor not moved). `at-most-once`: the source cannot redeliver (QoS 0).
   */
  delivery?: 'at-least-once' | 'at-most-once';
  /**
   * Whether an event produced while no host runs the feed fires once one does again (a cursor,
   * a replication slot, a persistent session keeps it). Default true.
   */
  replaysWhileStopped?: boolean;
}

export interface ConformanceOptions {
  /** The provider under test, as its package exports it. */
  provider: ProviderDefinition;
  /** The feed kind to drive. */
  kind: string;
  /**
   * Feed parameters, as a user would pass them to CREATE (validated by the kind, as the API does);
   * or a function that returns them when the kit runs (a source set up in `beforeAll`, on a port
   * known only then).
   */
  params: Record<string, unknown> | (() => Record<string, unknown> | Promise<Record<string, unknown>>);
  source: ConformanceSource;
  /** Real milliseconds to wait for an event to fire or a status to show. Default 10000. */
  eventTimeoutMs?: number;
  /** Real milliseconds `stop()` may take (the host's deadline for every provider call). Default 5000. */
  stopDeadlineMs?: number;
  /** Real milliseconds of a window in which nothing may fire (paused, deleted). Default 300. */
  quietMs?: number;
  /**
   * Real milliseconds a timer or socket of the provider may outlive its feed's stop before it
   * counts as leaked (an idle keep-alive socket closes by itself within seconds). Default 5000.
   */
  leakGraceMs?: number;
  /** Where the fake clock starts (epoch ms). Default: now. */
  clockStart?: number;
  /** The platform's public URL, which hook URLs are built on. Default http://127.0.0.1:3233. */
  publicUrl?: string;
  /** Run only the scenarios that judge these rules (the kit's own tests use it). Default: all. */
  rules?: RuleId[];
}

const positiveMs = z.number().int().positive();

const optionsSchema = z.strictObject({
  provider: z.custom<ProviderDefinition>(
    (value) => !!value && typeof value === 'object' && typeof (value as ProviderDefinition).name === 'string' && !!(value as ProviderDefinition).kinds,
    'must be a provider definition (what defineProvider returns)',
  ),
  kind: z.string().min(1, 'must name a feed kind'),
  params: z.union([z.record(z.string(), z.unknown()), z.custom<() => Record<string, unknown>>((value) => typeof value === 'function')], {
    error: 'must be an object of feed parameters, or a function that returns one',
  }),
  source: z.object({
    emit: z.custom<ConformanceSource['emit']>((value) => typeof value === 'function', 'must be a function that makes the source produce an event'),
    redeliver: z.custom<NonNullable<ConformanceSource['redeliver']>>((value) => typeof value === 'function', 'must be a function').optional(),
    carries: z.custom<NonNullable<ConformanceSource['carries']>>((value) => typeof value === 'function', 'must be a function').optional(),
    delivery: z.enum(['at-least-once', 'at-most-once']).optional(),
    replaysWhileStopped: z.boolean().optional(),
  }, { error: 'must be a source adapter: an object with emit(ctx)' }),
  eventTimeoutMs: positiveMs.optional(),
  stopDeadlineMs: positiveMs.optional(),
  quietMs: positiveMs.optional(),
  leakGraceMs: positiveMs.optional(),
  clockStart: z.number().int().optional(),
  publicUrl: z.url().optional(),
  rules: z.array(z.enum(RULE_IDS as [RuleId, ...RuleId[]])).min(1, 'must list at least one rule').optional(),
});

/** The options with their defaults filled in. */
export interface ResolvedOptions extends Omit<ConformanceOptions, 'source'> {
  source: Required<Pick<ConformanceSource, 'carries' | 'delivery' | 'replaysWhileStopped'>> & ConformanceSource;
  eventTimeoutMs: number;
  stopDeadlineMs: number;
  quietMs: number;
  leakGraceMs: number;
  publicUrl: string;
}

/** Checks the options (a clear error naming the field) and fills in defaults. */
export function resolveOptions(options: ConformanceOptions): ResolvedOptions {
  const parsed = parseWith(optionsSchema, options, { prefix: 'options' });
  if (!parsed.provider.kinds[parsed.kind]) {
    const kinds = Object.keys(parsed.provider.kinds).join(', ');
    throw new KindlingError('KND_VALIDATION', `'options.kind': provider '${parsed.provider.name}' has no feed kind '${parsed.kind}'; it has: ${kinds}`, { field: 'options.kind' });
  }
  const source = options.source;
  return {
    ...parsed,
    // The source keeps its own `this`: its methods may use the adapter's fields.
    source: Object.assign(Object.create(source) as ConformanceSource, {
      emit: source.emit.bind(source),
      ...(source.redeliver ? { redeliver: source.redeliver.bind(source) } : {}),
      carries: source.carries?.bind(source) ?? carriesToken,
      delivery: source.delivery ?? 'at-least-once',
      replaysWhileStopped: source.replaysWhileStopped ?? true,
    }),
    eventTimeoutMs: parsed.eventTimeoutMs ?? 10_000,
    stopDeadlineMs: parsed.stopDeadlineMs ?? 5000,
    quietMs: parsed.quietMs ?? 300,
    leakGraceMs: parsed.leakGraceMs ?? 5000,
    publicUrl: parsed.publicUrl ?? 'http://127.0.0.1:3233',
  };
}

/** The default `carries`: the token occurs anywhere in the event's JSON. */
export function carriesToken(event: CloudEvent | Record<string, unknown>, token: string): boolean {
  return JSON.stringify(event).includes(token);
}
