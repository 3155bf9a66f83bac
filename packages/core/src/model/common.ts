import { z } from 'zod';

export const keyValueSchema = z.strictObject({ key: z.string().min(1), value: z.unknown() });
export type KeyValue = { key: string; value: unknown };

export const keyValuesSchema = z.array(keyValueSchema);

/** `{path, name}` as OpenWhisk serialises a fully qualified entity name. */
export interface EntityPath {
  path: string;
  name: string;
}

/** Fields every stored entity carries. */
export interface EntityBase {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  annotations: KeyValue[];
  updated: number;
}

export function toParams(list: readonly KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = value;
  return out;
}

export function fromParams(params: Record<string, unknown>): KeyValue[] {
  return Object.entries(params).map(([key, value]) => ({ key, value }));
}

export function annotation(list: readonly KeyValue[], key: string): unknown {
  return list.find((kv) => kv.key === key)?.value;
}

/** `0.0.1` → `0.0.2`, as OpenWhisk bumps the patch on every update. */
export function bumpVersion(version: string): string {
  const [major = '0', minor = '0', patch = '0'] = version.split('.');
  return `${major}.${minor}.${Number.parseInt(patch, 10) + 1}`;
}
