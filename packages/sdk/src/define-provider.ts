import { KindlingError } from '@kindling/core';
import { SUPPORTED_SDK_VERSIONS, type FeedKindDefinition, type ProviderDefinition } from './types.js';

const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const KIND_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Declares a feed kind with its parameter type inferred from the schema. */
export function defineFeedKind<P>(kind: FeedKindDefinition<P>): FeedKindDefinition<P> {
  return kind;
}

/** Declares a provider; checks its shape at once so that a broken one fails at load, not later. */
export function defineProvider(definition: ProviderDefinition): ProviderDefinition {
  return assertProvider(definition, definition?.name ?? '(unnamed)');
}

export function assertProvider(candidate: unknown, source: string): ProviderDefinition {
  const fail = (why: string) => new KindlingError('KND_PROVIDER_LOAD', `${source} is not a Kindling provider: ${why}`);
  if (!candidate || typeof candidate !== 'object') throw fail('it exports no provider definition');
  const def = candidate as Partial<ProviderDefinition>;
  if (typeof def.name !== 'string' || !PROVIDER_NAME.test(def.name)) throw fail(`'name' must match ${PROVIDER_NAME}`);
  if (typeof def.sdkVersion !== 'number') throw fail("'sdkVersion' is missing");
  if (!SUPPORTED_SDK_VERSIONS.includes(def.sdkVersion)) {
    throw new KindlingError(
      'KND_PROVIDER_LOAD',
      `${source} was written for Kindling SDK version ${def.sdkVersion}; this platform supports ${SUPPORTED_SDK_VERSIONS.join(', ')}`,
    );
  }
  if (!def.kinds || typeof def.kinds !== 'object' || Object.keys(def.kinds).length === 0) throw fail("'kinds' declares no feed kind");
  for (const [kindName, kind] of Object.entries(def.kinds)) {
    if (!KIND_NAME.test(kindName)) throw fail(`feed kind '${kindName}' must match ${KIND_NAME}`);
    if (typeof kind?.start !== 'function') throw fail(`feed kind '${kindName}' has no start()`);
    if (typeof kind.params?.safeParse !== 'function') throw fail(`feed kind '${kindName}' has no zod 'params' schema`);
  }
  return def as ProviderDefinition;
}
