import { z } from 'zod';
import type { EntityBase, EntityPath, KeyValue } from './common.js';
import { keyValuesSchema } from './common.js';

export interface TriggerRecord extends EntityBase {
  parameters: KeyValue[];
  limits: Record<string, never>;
  /** The id of the feed bound to this trigger, if any. */
  feedId?: string;
}

/** The body of `PUT /triggers/{name}`; `feed` is Kindling's one-step trigger-with-feed. */
export const triggerPutSchema = z.object({
  namespace: z.string().optional(),
  name: z.string().optional(),
  parameters: keyValuesSchema.optional(),
  annotations: keyValuesSchema.optional(),
  limits: z.object({}).optional(),
  version: z.string().optional(),
  publish: z.boolean().optional(),
  feed: z
    .strictObject({
      provider: z.string().min(1),
      kind: z.string().min(1),
      params: z.record(z.string(), z.unknown()).default({}),
    })
    .optional(),
}).strict();

export type TriggerPut = z.infer<typeof triggerPutSchema>;

export interface ReducedRule {
  action: EntityPath;
  status: RuleStatus;
}

export type RuleStatus = 'active' | 'inactive';
