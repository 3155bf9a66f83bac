import { isKindlingError, KindlingError, messageOf, scrubSecrets, validationError, z, type Logger } from '@kindling/core';
import { FeedParamError } from '@kindling/sdk';
import type { ProviderRegistry } from '@kindling/host';

export interface FeedSpec {
  provider: string;
  kind: string;
  params: unknown;
}

/**
 * Validates feed parameters with the provider's schema and its own checks
 * (`registry.validateParams`), naming the offending field as the request spells it: `cron` for
 * the OpenWhisk feed action (parameters at the top of the body), `params.cron` or
 * `feed.params.cron` for Kindling's own routes.
 */
export async function validateFeedParams(registry: ProviderRegistry, spec: FeedSpec, prefix: string, log: Logger): Promise<Record<string, unknown>> {
  const signal = AbortSignal.timeout(10_000);
  try {
    return await registry.validateParams(spec.provider, spec.kind, spec.params, { log, signal });
  } catch (error) {
    if (!isKindlingError(error)) {
      // A provider's own check that failed in an unplanned way: still the user's request that it refused.
      const params = spec.params && typeof spec.params === 'object' ? (spec.params as Record<string, unknown>) : {};
      const why = scrubSecrets(messageOf(error), registry.secretValues(spec.provider, spec.kind, params));
      throw new KindlingError('KND_BAD_FEED_PARAMS', `${spec.provider}/${spec.kind} refused the feed parameters: ${why}`, { cause: error });
    }
    if (!prefix) throw error;
    if (error.cause instanceof z.ZodError) throw validationError(error.cause, { code: error.code, prefix });
    if (error instanceof FeedParamError && error.field) {
      const message = error.message.startsWith(`'${error.field}': `) ? error.message.slice(error.field.length + 4) : error.message;
      throw new FeedParamError(`${prefix}.${error.field}`, message);
    }
    throw error;
  }
}
