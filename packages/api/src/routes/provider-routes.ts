import { z } from '@kindling/core';
import type { FeedKindDefinition } from '@kindling/sdk';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';

export interface FeedKindView {
  name: string;
  description: string;
  pattern?: string;
  secrets: readonly string[];
  /** The parameters as JSON Schema (what the kind accepts at CREATE). */
  schema: unknown;
}

export interface ProviderView {
  name: string;
  description?: string;
  sdkVersion: number;
  kinds: FeedKindView[];
}

function schemaOf(kind: FeedKindDefinition<Record<string, unknown>>): unknown {
  try {
    return z.toJSONSchema(kind.params, { unrepresentable: 'any', io: 'input' });
  } catch {
    return {};
  }
}

/** `GET /providers`: the loaded providers, their feed kinds and parameter schemas (`kindling provider list`). */
export function registerProviderRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/providers', async (): Promise<ProviderView[]> =>
    ctx.deps.registry.list().map((provider) => ({
      name: provider.name,
      ...(provider.description ? { description: provider.description } : {}),
      sdkVersion: provider.sdkVersion,
      kinds: Object.entries(provider.kinds).map(([name, kind]) => ({
        name,
        description: kind.description,
        ...(kind.pattern ? { pattern: kind.pattern } : {}),
        secrets: kind.secrets ?? [],
        schema: schemaOf(kind),
      })),
    })),
  );
}
