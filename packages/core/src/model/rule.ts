import { z } from 'zod';
import type { EntityBase, EntityPath } from './common.js';
import { keyValuesSchema } from './common.js';
import type { RuleStatus } from './trigger.js';

export interface RuleRecord extends EntityBase {
  status: RuleStatus;
  trigger: EntityPath;
  action: EntityPath;
  /** A MongoDB-style query over the event (`{ "data.temperature": { "$gt": 30 } }`). */
  filter?: Record<string, unknown>;
  /** Deliver the matching events in batches, one activation per batch, rather than one per event. */
  batch?: RuleBatch;
}

/**
 * How a rule batches: a batch closes at `size` events or `windowMs` after its first event,
 * whichever comes first, and runs its action once with `{ events: [...] }`.
 */
export interface RuleBatch {
  size: number;
  windowMs: number;
}

export const RULE_BATCH_MAX_SIZE = 10_000;
export const RULE_BATCH_MAX_WINDOW_MS = 60_000;

export const ruleBatchSchema = z.object({
  size: z.number().int().min(1).max(RULE_BATCH_MAX_SIZE),
  windowMs: z.number().int().min(1).max(RULE_BATCH_MAX_WINDOW_MS),
}).strict();

const pathOrString = z.union([z.string().min(1), z.object({ path: z.string(), name: z.string() })]);

/** The body of `PUT /rules/{name}`. */
export const rulePutSchema = z.object({
  namespace: z.string().optional(),
  name: z.string().optional(),
  trigger: pathOrString.optional(),
  action: pathOrString.optional(),
  status: z.enum(['active', 'inactive', '']).optional(),
  annotations: keyValuesSchema.optional(),
  filter: z.record(z.string(), z.unknown()).optional(),
  /** `null` turns batching off again. */
  batch: ruleBatchSchema.nullable().optional(),
  version: z.string().optional(),
  publish: z.boolean().optional(),
}).strict();

export type RulePut = z.infer<typeof rulePutSchema>;

export const ruleStatusChangeSchema = z.object({ status: z.enum(['active', 'inactive']) });
