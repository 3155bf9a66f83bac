import { z } from 'zod';
import { parseWith } from '../validation.js';
import { DEFAULT_ACTIVATION_LIMIT, type ActivationQuery, type ActivationRetention } from './activation-store.js';

/** The most records one `list` call returns, whatever the caller asks: a page, never a dump. */
export const MAX_ACTIVATION_LIMIT = 10_000;

const epochMs = z.number().int().nonnegative();

const querySchema = z.strictObject({
  name: z.string().min(1).max(256).optional(),
  status: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).optional(),
  since: epochMs.optional(),
  upto: epochMs.optional(),
  skip: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.number().int().min(1).max(MAX_ACTIVATION_LIMIT).optional(),
});

const retentionSchema = z.strictObject({
  maxAgeMs: z.number().int().positive(),
  maxCountPerNamespace: z.number().int().positive().optional(),
});

/** An activation query with its defaults filled in (skip 0, limit 30), or a KND_VALIDATION naming the field. */
export function parseActivationQuery(query: ActivationQuery = {}): ActivationQuery & { skip: number; limit: number } {
  const parsed = parseWith(querySchema, query, { prefix: 'query' });
  return { ...stripUndefined(parsed), skip: parsed.skip ?? 0, limit: parsed.limit ?? DEFAULT_ACTIVATION_LIMIT };
}

export function parseActivationRetention(retention: ActivationRetention): ActivationRetention {
  return stripUndefined(parseWith(retentionSchema, retention, { prefix: 'retention' }));
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
