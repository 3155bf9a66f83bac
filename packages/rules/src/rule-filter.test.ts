import { describe, expect, it } from '@jest/globals';
import { createCloudEvent, KindlingError } from '@kindling/core';
import { compileRuleFilter } from './rule-filter.js';

const event = createCloudEvent({
  namespace: 'guest',
  trigger: 'sensor',
  type: 'dev.kindling.mqtt.message',
  data: { temperature: 35, room: 'lab', tags: ['a', 'b'] },
});

function refusal(filter: unknown): KindlingError {
  try {
    compileRuleFilter(filter);
  } catch (error) {
    return error as KindlingError;
  }
  throw new Error(`filter ${JSON.stringify(filter)} was accepted`);
}

describe('compileRuleFilter', () => {
  it('matches a query over the event data', () => {
    expect(compileRuleFilter({ 'data.temperature': { $gt: 30 } }).test(event)).toBe(true);
    expect(compileRuleFilter({ 'data.temperature': { $gt: 40 } }).test(event)).toBe(false);
  });

  it('matches on envelope fields and combines conditions', () => {
    expect(compileRuleFilter({ type: 'dev.kindling.mqtt.message', 'data.room': { $in: ['lab', 'office'] } }).test(event)).toBe(true);
    expect(compileRuleFilter({ $or: [{ type: 'other' }, { 'data.tags': 'b' }] }).test(event)).toBe(true);
    expect(compileRuleFilter({ $expr: { $gt: [{ $sum: ['$data.temperature', 10] }, 44] } }).test(event)).toBe(true);
  });

  it('refuses an unknown query operator, naming it', () => {
    const error = refusal({ 'data.temperature': { $greater: 30 } });
    expect(error).toBeInstanceOf(KindlingError);
    expect(error.code).toBe('KND_VALIDATION');
    expect(error.field).toBe('filter');
    expect(error.message).toContain('$greater');
  });

  it('refuses an unknown top-level operator and an unknown operator inside $expr', () => {
    expect(refusal({ $bogus: [] }).message).toContain('$bogus');
    expect(refusal({ $and: [{ $expr: { $plus: [1, 2] } }] }).message).toContain('$plus');
  });

  it('refuses operators that would run code', () => {
    expect(refusal({ $where: 'this.data.temperature > 30' }).message).toContain('$where');
    expect(refusal({ $expr: { $function: { body: 'return true', args: [], lang: 'js' } } }).message).toContain('$function');
  });

  it('refuses a filter that is not an object, and a bad regular expression', () => {
    expect(refusal(['data.x']).field).toBe('filter');
    expect(refusal('data.x > 3').field).toBe('filter');
    expect(refusal({ 'data.room': { $regex: '(' } }).message).toMatch(/regular expression/);
  });

  it('throws on evaluation when a well-formed filter cannot be applied to the event', () => {
    const filter = compileRuleFilter({ 'data.room': { $in: 5 } });
    expect(() => filter.test(event)).toThrow();
  });
});
