import { InvalidArgumentError } from 'commander';

/** Commander parser for a whole number in `[min, max]`. */
export function integerIn(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`);
    }
    return value;
  };
}

/** Commander collector for a flag that may be repeated. */
export function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A point in time as epoch ms: epoch ms itself, or any date `Date` parses (`2024-05-01T12:00Z`). */
export function timestamp(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected epoch milliseconds or a date such as 2024-05-01T12:00:00Z');
  return ms;
}

/** A positive number of seconds, fractions allowed (`0.5`); returned in milliseconds. */
export function secondsAsMs(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return Math.round(value * 1000);
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A positive duration with its unit (`90m`, `24h`, `7d`; also `s` and `ms`); returned in milliseconds. */
export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  const value = match ? Number(match[1]) * DURATION_UNITS_MS[match[2]!]! : 0;
  if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidArgumentError('expected a positive whole number with a unit: ms, s, m, h or d (such as 24h or 7d)');
  return value;
}
