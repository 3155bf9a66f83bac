import { KindlingError } from '@kindling/core';

export const MAX_LIST_LIMIT = 200;
export const DEFAULT_LIST_LIMIT = 30;

export type Query = Record<string, string | undefined>;

export interface ListQuery {
  skip: number;
  limit: number;
  count: boolean;
}

export function booleanQuery(query: Query, name: string, fallback: boolean): boolean {
  const value = query[name];
  if (value === undefined || value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new KindlingError('KND_VALIDATION', `'${name}' must be true or false, not '${value}'.`, { field: name });
}

export function integerQuery(query: Query, name: string): number | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new KindlingError('KND_VALIDATION', `'${name}' must be a non-negative integer, not '${value}'.`, { field: name });
  return Number(value);
}

/** `skip`, `limit` (default 30, at most 200, 0 = 200) and `count`, as OpenWhisk reads them. */
export function listQuery(query: Query, collection: string): ListQuery {
  const skip = integerQuery(query, 'skip') ?? 0;
  const rawLimit = query.limit;
  const limit = integerQuery(query, 'limit');
  if (limit !== undefined && limit > MAX_LIST_LIMIT) {
    throw new KindlingError('KND_VALIDATION', `The value '${rawLimit}' is not in the range of 0 to ${MAX_LIST_LIMIT} for ${collection}.`, { field: 'limit' });
  }
  return { skip, limit: limit === undefined ? DEFAULT_LIST_LIMIT : limit === 0 ? MAX_LIST_LIMIT : limit, count: booleanQuery(query, 'count', false) };
}

export function page<T>(items: readonly T[], list: ListQuery): T[] {
  return items.slice(list.skip, list.skip + list.limit);
}
