import { messageOf } from '@kindling/sdk';
import { Query } from 'mingo';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';

/**
 * A feed's `filter`: a MongoDB query evaluated in the provider on each message's event data
 * (`{ topic, payload }`), so that a high-rate stream fires only the messages that matter.
 */
export interface EdgeFilter {
  test(data: Record<string, unknown>): boolean;
}

/** Feed parameters come from tenants: a filter may query, never run code. */
const CODE_OPERATORS = new Set(['$where', '$function', '$accumulator']);

const EXPRESSION_OPERATORS = new Set(
  [...Object.keys(expressionOperators), ...Object.keys(accumulatorOperators)].filter((name) => name.startsWith('$')),
);

/** Compiles a filter; throws an Error whose message says what is wrong with it. */
export function compileEdgeFilter(filter: Record<string, unknown>): EdgeFilter {
  rejectUnknownOperators(filter, false);
  let query: Query;
  try {
    query = new Query(filter, { scriptEnabled: false });
  } catch (error) {
    throw new Error(messageOf(error).replace(/\.$/, ''));
  }
  return { test: (data) => query.test(data) };
}

/** Mingo checks query operators when compiling, but those inside `$expr` only when evaluating. */
function rejectUnknownOperators(node: unknown, inExpression: boolean): void {
  if (Array.isArray(node)) {
    for (const item of node) rejectUnknownOperators(item, inExpression);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (CODE_OPERATORS.has(key)) throw new Error(`${key} is not allowed: a filter cannot run code`);
    if (key === '$literal') continue;
    if (inExpression && key.startsWith('$') && !EXPRESSION_OPERATORS.has(key)) throw new Error(`unknown expression operator ${key}`);
    rejectUnknownOperators(value, inExpression || key === '$expr');
  }
}
