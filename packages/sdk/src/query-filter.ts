import { KindlingError, messageOf } from '@kindling/core';
import { Query } from 'mingo';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';

/** A compiled query filter: tests one document (a CloudEvent, an event's data). */
export interface QueryFilter {
  /** True when the document matches; throws when the filter cannot be evaluated on it. */
  test(document: object): boolean;
}

/** Filters come from tenants (rules, feed parameters): they may query, never run code. */
const CODE_OPERATORS = new Set(['$where', '$function', '$accumulator']);

/** Operators legal inside `$expr`: aggregation expressions and the accumulators usable there. */
const EXPRESSION_OPERATORS = new Set(
  [...Object.keys(expressionOperators), ...Object.keys(accumulatorOperators)].filter((name) => name.startsWith('$')),
);

/**
 * Compiles a MongoDB query a tenant wrote (`{ "data.temperature": { "$gt": 30 } }`) once, so that
 * the hot path only tests, in a sandbox: no operator that runs code (`$where`, `$function`,
 * `$accumulator`), and no unknown operator, also inside `$expr`. Throws a `KND_VALIDATION`
 * error on field `filter` whose message says what is wrong, without a trailing period.
 */
export function compileQueryFilter(filter: Record<string, unknown>): QueryFilter {
  rejectOperators(filter, false);
  let query: Query;
  try {
    query = new Query(filter, { scriptEnabled: false });
  } catch (error) {
    throw invalid(messageOf(error).replace(/\.$/, ''), error);
  }
  return { test: (document) => query.test(document as Record<string, unknown>) };
}

/**
 * Mingo checks query operators when it compiles, but operators inside `$expr` only when it
 * evaluates; this walk finds those (and the code operators) up front.
 */
function rejectOperators(node: unknown, inExpression: boolean): void {
  if (Array.isArray(node)) {
    for (const item of node) rejectOperators(item, inExpression);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (CODE_OPERATORS.has(key)) throw invalid(`${key} is not allowed: a filter cannot run code`);
    if (key === '$literal') continue;
    if (inExpression && key.startsWith('$') && !EXPRESSION_OPERATORS.has(key)) throw invalid(`unknown expression operator ${key}`);
    rejectOperators(value, inExpression || key === '$expr');
  }
}

function invalid(reason: string, cause?: unknown): KindlingError {
  return new KindlingError('KND_VALIDATION', reason, { field: 'filter', cause });
}
