import { z } from 'zod';
import type { EntityBase, KeyValue } from './common.js';
import { keyValuesSchema } from './common.js';

/** Limits as OpenWhisk defines them: timeout in ms, memory and logs in MB. */
export const ActionLimitBounds = {
  timeout: { min: 100, default: 60_000, max: 300_000 },
  memory: { min: 128, default: 256, max: 512 },
  logs: { min: 0, default: 10, max: 10 },
  concurrency: { min: 1, default: 1, max: 500 },
} as const;

/** Largest action result, in bytes (the largest invocation payload is the bus's `MAX_PAYLOAD_BYTES`). */
export const MAX_RESULT_BYTES = 1024 * 1024;
export const MAX_SEQUENCE_LENGTH = 50;

export interface ActionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
}

export const actionLimitsSchema = z.strictObject({
  timeout: z.number().int().min(ActionLimitBounds.timeout.min).max(ActionLimitBounds.timeout.max).optional(),
  memory: z.number().int().min(ActionLimitBounds.memory.min).max(ActionLimitBounds.memory.max).optional(),
  logs: z.number().int().min(ActionLimitBounds.logs.min).max(ActionLimitBounds.logs.max).optional(),
  concurrency: z.number().int().min(ActionLimitBounds.concurrency.min).max(ActionLimitBounds.concurrency.max).optional(),
});

export function defaultLimits(): ActionLimits {
  return {
    timeout: ActionLimitBounds.timeout.default,
    memory: ActionLimitBounds.memory.default,
    logs: ActionLimitBounds.logs.default,
    concurrency: ActionLimitBounds.concurrency.default,
  };
}

export const NODE_KINDS = ['nodejs:20', 'nodejs:22', 'nodejs:default'] as const;

export type CodeExec = { kind: string; code: string; main?: string; binary: boolean; image?: string };
export type BlackboxExec = { kind: 'blackbox'; image: string; code?: string; main?: string; binary: boolean };
export type SequenceExec = { kind: 'sequence'; components: string[] };
export type ActionExec = CodeExec | BlackboxExec | SequenceExec;

export const actionExecSchema = z.union([
  z.object({
    kind: z.literal('sequence'),
    components: z.array(z.string().min(1)).min(1).max(50),
  }),
  z.object({
    kind: z.literal('blackbox'),
    image: z.string().min(1, 'a blackbox action needs an image'),
    code: z.string().optional(),
    main: z.string().optional(),
    binary: z.boolean().optional(),
  }),
  z.object({
    kind: z.string().regex(/^nodejs(:[\w.]+)?$/, "must be 'nodejs:20', 'nodejs:default', 'blackbox' or 'sequence'"),
    code: z.string().min(1, 'must not be empty'),
    main: z.string().optional(),
    image: z.string().optional(),
    binary: z.boolean().optional(),
  }),
]);

export interface ActionRecord extends EntityBase {
  exec: ActionExec;
  parameters: KeyValue[];
  limits: ActionLimits;
}

/** The body of `PUT /actions/{name}`. */
export const actionPutSchema = z.object({
  namespace: z.string().optional(),
  name: z.string().optional(),
  exec: actionExecSchema.optional(),
  parameters: keyValuesSchema.optional(),
  annotations: keyValuesSchema.optional(),
  delAnnotations: z.array(z.string()).optional(),
  limits: actionLimitsSchema.optional(),
  version: z.string().optional(),
  publish: z.boolean().optional(),
}).strict();

export type ActionPut = z.infer<typeof actionPutSchema>;

/** A revision of an action's code: warm containers are reused only for the same revision. */
export function actionRevision(action: Pick<ActionRecord, 'namespace' | 'name' | 'version' | 'updated'>): string {
  return `${action.namespace}/${action.name}@${action.version}#${action.updated}`;
}
