import { KindlingError, messageOf, type CloudEvent } from '@kindling/core';
import { compileQueryFilter } from '@kindling/sdk';

/** A compiled rule filter: tests a trigger event (the whole CloudEvent envelope). */
export interface RuleFilter {
  /** True when the event matches; throws when the filter cannot be evaluated on this event. */
  test(event: CloudEvent): boolean;
}

/**
 * Validates a rule filter (a MongoDB query over the CloudEvent, e.g.
 * `{ "data.temperature": { "$gt": 30 } }`) and compiles it once in the SDK's query sandbox.
 * Throws a `KND_VALIDATION` error on field `filter` that names the bad operator, so the API can
 * refuse the rule before storing it.
 */
export function compileRuleFilter(filter: unknown): RuleFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw invalid("must be an object holding a MongoDB query, such as { \"data.temperature\": { \"$gt\": 30 } }");
  }
  try {
    return compileQueryFilter(filter as Record<string, unknown>);
  } catch (error) {
    throw invalid(messageOf(error), error);
  }
}

function invalid(reason: string, cause?: unknown): KindlingError {
  return new KindlingError('KND_VALIDATION', `'filter': ${reason.replace(/\.$/, '')}.`, { field: 'filter', cause });
}
