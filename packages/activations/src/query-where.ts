import type { ActivationQuery } from '@kindling/core';

/**
 * The WHERE clause of an activation query, shared by the SQL stores: `placeholder(n)` gives
 * the engine's n-th parameter (`?` for SQLite, `$n` for PostgreSQL).
 */
export function queryWhere(namespace: string, query: ActivationQuery, placeholder: (position: number) => string): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const clauses: string[] = [];
  const add = (clause: string, value: unknown) => {
    values.push(value);
    clauses.push(clause.replace('?', placeholder(values.length)));
  };
  add('namespace = ?', namespace);
  if (query.name !== undefined) add('name = ?', query.name);
  if (query.status !== undefined) add('status = ?', query.status);
  if (query.since !== undefined) add('start >= ?', query.since);
  if (query.upto !== undefined) add('start <= ?', query.upto);
  return { sql: clauses.join(' AND '), values };
}
