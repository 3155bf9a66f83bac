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
}

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
  version: z.string().optional(),
  publish: z.boolean().optional(),
}).strict();

export type RulePut = z.infer<typeof rulePutSchema>;

export const ruleStatusChangeSchema = z.object({ status: z.enum(['active', 'inactive']) });
