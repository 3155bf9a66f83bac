import { defaultLimits, randomActivationId, type ActionLimits, type ActionRecord } from '@kindling/core';

let updated = Date.now();

/** A Node.js action record as the API stores it; each call is a new revision. */
export function nodeAction(name: string, code: string, options: { limits?: Partial<ActionLimits>; namespace?: string; parameters?: Record<string, unknown> } = {}): ActionRecord {
  return {
    namespace: options.namespace ?? 'guest',
    name,
    version: '0.0.1',
    publish: false,
    annotations: [{ key: 'exec', value: 'nodejs:20' }],
    updated: ++updated,
    exec: { kind: 'nodejs:20', code, binary: false },
    parameters: Object.entries(options.parameters ?? {}).map(([key, value]) => ({ key, value })),
    limits: { ...defaultLimits(), ...options.limits },
  };
}

export function newActivationId(): string {
  return randomActivationId();
}
