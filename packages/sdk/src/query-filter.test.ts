import { describe, expect, it } from '@jest/globals';
import { KindlingError } from '@kindling/core';
import { compileQueryFilter } from './query-filter.js';

function refusal(filter: Record<string, unknown>): KindlingError {
  try {
    compileQueryFilter(filter);
  } catch (error) {
    return error as KindlingError;
  }
  throw new Error(`filter ${JSON.stringify(filter)} was accepted`);
}

describe('compileQueryFilter', () => {
  it('matches a query, also through $expr', () => {
    const data = { topic: 'lab/temp', payload: { temperature: 35 } };
    expect(compileQueryFilter({ 'payload.temperature': { $gt: 30 } }).test(data)).toBe(true);
    expect(compileQueryFilter({ 'payload.temperature': { $gt: 40 } }).test(data)).toBe(false);
    expect(compileQueryFilter({ $expr: { $gt: [{ $sum: ['$payload.temperature', 10] }, 44] } }).test(data)).toBe(true);
  });

  it('refuses every operator that would run code, wherever it is', () => {
    for (const filter of [
      { $where: 'this.a > 1' },
      { a: { $elemMatch: { $where: 'true' } } },
      { $expr: { $function: { body: 'return true', args: [], lang: 'js' } } },
      { $expr: { $accumulator: {} } },
    ]) {
      const error = refusal(filter);
      expect(error).toBeInstanceOf(KindlingError);
      expect(error).toMatchObject({ code: 'KND_VALIDATION', field: 'filter' });
      expect(error.message).toMatch(/^\$(where|function|accumulator) is not allowed: a filter cannot run code$/);
    }
  });

  it('refuses an unknown operator inside $expr up front, and an unknown query operator', () => {
    expect(refusal({ $expr: { $plus: [1, 2] } }).message).toBe('unknown expression operator $plus');
    expect(refusal({ a: { $greater: 1 } }).message).toContain('$greater');
  });

  it('takes what $literal holds as data, not as operators', () => {
    expect(compileQueryFilter({ $expr: { $eq: ['$a', { $literal: { $where: 'x' } }] } }).test({ a: { $where: 'x' } })).toBe(true);
  });
});
