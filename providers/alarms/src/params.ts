import { z } from '@kindling/sdk';

/**
 * Parameter schemas of the three feed kinds. Values keep the form the user gave (a date stays
 * the string or number it was) so that READ shows them back unchanged; they are interpreted when
 * the feed starts. Checks across fields and against the clock live in `validate-params.ts`.
 */

/** Epoch milliseconds or an ISO 8601 string, as the OpenWhisk alarms package accepts. */
export function parseDate(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const text = value.trim();
  if (/^-?\d+$/.test(text)) return Number(text);
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

const dateParam = z
  .union([z.number(), z.string()])
  .refine((value) => parseDate(value) !== undefined, { message: 'not a date: give an ISO 8601 string or epoch milliseconds' });

/** Whole numbers; the OpenWhisk CLI may send them as strings. */
const wholeNumber = z.preprocess(
  (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
  z.number().int(),
);

const payloadParam = z.union([z.record(z.string(), z.unknown()), z.string()]);

const catchUpParams = {
  catchUp: z.enum(['none', 'last', 'all']).optional(),
  maxCatchUp: wholeNumber.pipe(z.number().min(1).max(10_000)).optional(),
};

const recurringParams = {
  startDate: dateParam.optional(),
  stopDate: dateParam.optional(),
  trigger_payload: payloadParam.optional(),
  maxTriggers: wholeNumber.refine((n) => n === -1 || n >= 1, { message: 'must be -1 (unlimited) or at least 1' }).optional(),
  ...catchUpParams,
};

export const alarmParams = z.strictObject({
  cron: z.string().min(1, 'give a cron expression of 5 fields, or 6 with seconds first'),
  timezone: z.string().min(1).optional(),
  ...recurringParams,
});

export const intervalParams = z.strictObject({
  minutes: wholeNumber.pipe(z.number().min(1)).optional(),
  seconds: wholeNumber.pipe(z.number().min(1)).optional(),
  ...recurringParams,
});

export const onceParams = z.strictObject({
  date: dateParam,
  deleteAfterFire: z.union([z.boolean(), z.literal('rules')]).optional(),
  trigger_payload: payloadParam.optional(),
  ...catchUpParams,
});

export type AlarmParams = z.output<typeof alarmParams>;
export type IntervalParams = z.output<typeof intervalParams>;
export type OnceParams = z.output<typeof onceParams>;

/**
 * The event data: an object as given; a JSON string of an object, parsed; any other string
 * wrapped as `{ payload }`, as the OpenWhisk alarms package does.
 */
export function eventData(payload: Record<string, unknown> | string | undefined): Record<string, unknown> {
  if (payload === undefined) return {};
  if (typeof payload !== 'string') return payload;
  try {
    const parsed: unknown = JSON.parse(payload);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON: wrapped below
  }
  return { payload };
}
