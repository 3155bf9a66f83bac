import { KindlingError, messageOf, type CloudEvent } from '@kindling/core';
import { Query } from 'mingo';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';

/** A compiled rule filter: tests a trigger event (the whole CloudEvent envelope). */
export interface RuleFilter {
  /** True when the event matches; throws when the filter cannot be evaluated on this event. */
  test(event: CloudEvent): boolean;
}

/** Operators that run code: a filter comes from a tenant, so it never gets to run any. */
const SCRIPT_OPERATORS = new Set(['$where', '$function', '$accumulator']);

/** Operators legal inside `$expr`: aggregation expressions and the accumulators usable there. */
const EXPRESSION_OPERATORS = new Set(
  [...Object.keys(expressionOperators), ...Object.keys(accumulatorOperators)].filter((name) => name.startsWith('$')),
);

/**
 * Validates a rule filter (a MongoDB query over the CloudEvent, e.g.
 * `{ "data.temperature": { "$gt": 30 } }`) and compiles it once, so that the hot path only
 * tests. Throws a `KND_VALIDATION` error on field `filter` that names the bad operator, so the
 * API can refuse the rule before storing it.
 */
export function compileRuleFilter(filter: unknown): RuleFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw invalid("must be an object holding a MongoDB query, such as { \"data.temperature\": { \"$gt\": 30 } }");
  }
  checkOperators(filter, false);
  let query: Query;
  try {
    query = new Query(filter as Record<string, unknown>, { scriptEnabled: false });
  } catch (error) {
    throw invalid(messageOf(error), error);
  }
  return { test: (event) => query.test(event as unknown as Record<string, unknown>) };
}

/**
 * Mingo checks query operators when it compiles, but operators inside `$expr` only when it
 * evaluates; this walk finds those (and the script operators) up front.
 */
function checkOperators(node: unknown, inExpression: boolean): void {
  if (Array.isArray(node)) {
    for (const item of node) checkOperators(item, inExpression);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (SCRIPT_OPERATORS.has(key)) throw invalid(`${key} is not supported: a filter cannot run code`);
    if (key === '$literal') continue;
    if (inExpression && key.startsWith('$') && !EXPRESSION_OPERATORS.has(key)) {
      throw invalid(`unknown expression operator ${key}`);
    }
    checkOperators(value, inExpression || key === '$expr');
  }
}

function invalid(reason: string, cause?: unknown): KindlingError {
  return new KindlingError('KND_VALIDATION', `'filter': ${reason.replace(/\.$/, '')}.`, { field: 'filter', cause });
}
