import { BoundedCache } from '@kindling/sdk';
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { validateDetailed } from 'node-cron';
import type { Schedule, ScheduleBounds } from './schedule.js';
import { TimeZone } from './time-zone.js';

/** Parsing costs ~0.2 ms; feeds sharing an expression share one parse (used synchronously only). */
const PARSED_CACHE_SIZE = 5000;
const parsed = new BoundedCache<string, CronExpression>(PARSED_CACHE_SIZE);

/** Candidates examined per question: a guard against an expression that never lands in bounds. */
const MAX_CANDIDATES = 10_000;

/**
 * Why `expression` is not a cron expression this provider can schedule, or undefined when it is.
 * node-cron checks the syntax (5 or 6 fields, ranges) and says which field is wrong; cron-parser,
 * which computes the fire times, must accept it too (it lacks node-cron's `W` and `L-n`).
 */
export function cronProblem(expression: string): string | undefined {
  const detailed = validateDetailed(expression);
  if (!detailed.valid) {
    return detailed.errors.map((e) => (e.field === 'expression' ? e.message : `${e.field} field: ${e.message}`)).join('; ') || 'not a cron expression';
  }
  try {
    parse(expression);
  } catch (error) {
    return `the scheduler cannot compute fire times for it: ${error instanceof Error ? error.message : String(error)}`;
  }
  return undefined;
}

function parse(expression: string): CronExpression {
  let expr = parsed.get(expression);
  if (!expr) {
    // Matched against wall times (UTC fields that read like the local clock): see TimeZone.
    expr = CronExpressionParser.parse(expression, { tz: 'UTC', strict: false });
    parsed.set(expression, expr);
  }
  return expr;
}

/**
 * A cron schedule in a time zone. Fire times are the wall times the expression matches, mapped
 * to instants by `TimeZone.instantOf`: a wall time the clocks skip fires once at the first
 * instant after the gap, a wall time that happens twice fires at its first occurrence only.
 */
export class CronSchedule implements Schedule {
  private readonly expression: string;

  constructor(
    expression: string,
    private readonly zone: TimeZone = TimeZone.utc,
    private readonly bounds: ScheduleBounds = {},
  ) {
    this.expression = expression.trim();
    parse(this.expression);
  }

  firstAtOrAfter(time: number): number | undefined {
    const from = Math.max(time, this.bounds.start ?? -Infinity);
    const expr = parse(this.expression);
    // After the clocks went back, wall times up to the end of the repeated stretch already fired.
    const startWall = this.zone.repeatEndAt(from) ?? this.zone.wallOf(from);
    expr.reset(new Date(startWall - 1));
    for (let i = 0; i < MAX_CANDIDATES; i++) {
      const wall = next(expr);
      if (wall === undefined) return undefined;
      const instant = this.zone.instantOf(wall);
      if (instant < from) continue;
      return this.bounds.stop !== undefined && instant > this.bounds.stop ? undefined : instant;
    }
    return undefined;
  }

  latestAtOrBefore(time: number, floor: number, limit: number): number[] {
    const to = Math.min(time, this.bounds.stop ?? Infinity);
    const lowest = Math.max(floor, this.bounds.start ?? -Infinity);
    const slots: number[] = [];
    if (limit <= 0 || to < lowest) return slots;
    const expr = parse(this.expression);
    const endWall = this.zone.repeatEndAt(to) ?? this.zone.wallOf(to) + 1;
    expr.reset(new Date(endWall));
    for (let i = 0; i < MAX_CANDIDATES && slots.length < limit; i++) {
      const wall = previous(expr);
      if (wall === undefined) break;
      const instant = this.zone.instantOf(wall);
      if (instant > to) continue;
      if (instant < lowest) break;
      // Several skipped wall times map to the same instant after a gap: it fires once.
      if (slots[slots.length - 1] !== instant) slots.push(instant);
    }
    return slots;
  }
}

function next(expr: CronExpression): number | undefined {
  try {
    return expr.next().getTime();
  } catch {
    return undefined;
  }
}

function previous(expr: CronExpression): number | undefined {
  try {
    return expr.prev().getTime();
  } catch {
    return undefined;
  }
}
