import { KindlingError, parseWith } from '@kindling/core';
import { assertProvider, SECRET_MASK, type FeedKindDefinition, type ProviderDefinition, type ValidateContext } from '@kindling/sdk';

/** The providers this process knows, by name; the API validates with it, hosts run with it. */
export class ProviderRegistry {
  private readonly providers = new Map<string, ProviderDefinition>();

  constructor(providers: Iterable<ProviderDefinition> = []) {
    for (const provider of providers) this.register(provider);
  }

  register(candidate: unknown, source = 'provider'): ProviderDefinition {
    const provider = assertProvider(candidate, source);
    if (this.providers.has(provider.name)) {
      throw new KindlingError('KND_PROVIDER_LOAD', `a provider named '${provider.name}' is already loaded (from ${source})`);
    }
    this.providers.set(provider.name, provider);
    return provider;
  }

  list(): ProviderDefinition[] {
    return [...this.providers.values()];
  }

  has(provider: string): boolean {
    return this.providers.has(provider);
  }

  kind(provider: string, kind: string): FeedKindDefinition<Record<string, unknown>> {
    const def = this.providers.get(provider);
    if (!def) {
      throw new KindlingError('KND_UNKNOWN_PROVIDER', `unknown provider '${provider}'; loaded: ${[...this.providers.keys()].join(', ') || 'none'}`, { field: 'feed.provider' });
    }
    const kindDef = def.kinds[kind];
    if (!kindDef) {
      throw new KindlingError('KND_UNKNOWN_PROVIDER', `provider '${provider}' has no feed kind '${kind}'; it has: ${Object.keys(def.kinds).join(', ')}`, { field: 'feed.kind' });
    }
    return kindDef;
  }

  /** Validates feed parameters against the kind's schema and its own checks; returns them parsed. */
  async validateParams(provider: string, kind: string, params: unknown, ctx: ValidateContext): Promise<Record<string, unknown>> {
    const kindDef = this.kind(provider, kind);
    const parsed = parseWith(kindDef.params, params ?? {}, { code: 'KND_BAD_FEED_PARAMS' });
    await kindDef.validate?.(parsed, ctx);
    return parsed;
  }

  secretsOf(provider: string, kind: string): readonly string[] {
    return this.providers.get(provider)?.kinds[kind]?.secrets ?? [];
  }

  /** The parameters with every declared secret masked: what READ and logs may show. */
  maskSecrets(provider: string, kind: string, params: Record<string, unknown>): Record<string, unknown> {
    const masked = { ...params };
    for (const name of this.secretsOf(provider, kind)) {
      if (masked[name] !== undefined) masked[name] = SECRET_MASK;
    }
    return masked;
  }

  /** The secret values in `params`, to scrub from error messages. */
  secretValues(provider: string, kind: string, params: Record<string, unknown>): string[] {
    return this.secretsOf(provider, kind).flatMap((name) => {
      const value = params[name];
      return typeof value === 'string' ? [value] : value && typeof value === 'object' ? [JSON.stringify(value)] : [];
    });
  }
}
