import { describe, expect, it } from '@jest/globals';
import { KindlingError, silentLogger } from '@kindling/sdk';
import { ProviderRegistry } from '@kindling/provider-testkit';
import { alarmsProvider, eventData } from './index.js';

/** Parameters go through the registry exactly as the API validates them at CREATE. */
const registry = new ProviderRegistry([alarmsProvider]);
const ctx = { log: silentLogger(), signal: new AbortController().signal };
const validate = (kind: string, params: unknown) => registry.validateParams('alarms', kind, params, ctx);
const hourFromNow = () => new Date(Date.now() + 3_600_000).toISOString();

async function refusal(kind: string, params: unknown): Promise<KindlingError> {
  try {
    await validate(kind, params);
  } catch (error) {
    expect(error).toBeInstanceOf(KindlingError);
    const kindling = error as KindlingError;
    expect(kindling).toMatchObject({ code: 'KND_BAD_FEED_PARAMS', status: 400 });
    return kindling;
  }
  throw new Error(`expected ${JSON.stringify(params)} to be refused`);
}

describe('alarm parameters', () => {
  it('accepts 5- and 6-field expressions and keeps the parameters as given (no defaults added)', async () => {
    expect(await validate('alarm', { cron: '*/5 * * * *' })).toEqual({ cron: '*/5 * * * *' });
    expect(await validate('alarm', { cron: '*/10 * * * * *', timezone: 'Europe/Paris', trigger_payload: { a: 1 } })).toEqual({
      cron: '*/10 * * * * *',
      timezone: 'Europe/Paris',
      trigger_payload: { a: 1 },
    });
  });

  it('refuses a cron string with 7 fields, naming the field and the reason', async () => {
    const error = await refusal('alarm', { cron: '* * * * * * *' });
    expect(error.field).toBe('cron');
    expect(error.message).toContain('expected 5 or 6 fields but got 7');
  });

  it('refuses out-of-range values and garbage with the parser reason', async () => {
    const minute = await refusal('alarm', { cron: '61 * * * *' });
    expect(minute.field).toBe('cron');
    expect(minute.message).toMatch(/minute field: 61 is a invalid expression/);
    expect((await refusal('alarm', { cron: 'every day' })).field).toBe('cron');
    expect((await refusal('alarm', { cron: '' })).field).toBe('cron');
    expect((await refusal('alarm', { cron: '0 0 30 2 *' })).message).toContain('impossible day of month');
  });

  it('refuses syntax node-cron knows but the scheduler cannot compute', async () => {
    const error = await refusal('alarm', { cron: '0 0 15W * *' });
    expect(error.field).toBe('cron');
    expect(error.message).toContain('the scheduler cannot compute fire times');
  });

  it('refuses an unknown field by name', async () => {
    const error = await refusal('alarm', { cron: '* * * * *', strictly: true });
    expect(error.field).toBe('strictly');
    expect(error.message).toContain("unknown field 'strictly'");
  });

  it('refuses an unknown time zone', async () => {
    const error = await refusal('alarm', { cron: '* * * * *', timezone: 'Mars/Olympus_Mons' });
    expect(error.field).toBe('timezone');
    expect(error.message).toContain("unknown time zone 'Mars/Olympus_Mons'");
  });

  it('refuses a stopDate before startDate, and one in the past', async () => {
    const start = Date.now() + 86_400_000;
    const error = await refusal('alarm', { cron: '* * * * *', startDate: start, stopDate: new Date(start - 1000).toISOString() });
    expect(error.field).toBe('stopDate');
    expect(error.message).toContain('must be after startDate');
    expect((await refusal('alarm', { cron: '* * * * *', stopDate: '2001-01-01T00:00:00Z' })).message).toContain('is in the past');
  });

  it('refuses a schedule with no fire time before stopDate', async () => {
    const start = Date.UTC(2100, 0, 1, 0, 30);
    const error = await refusal('alarm', { cron: '0 12 * * *', startDate: start, stopDate: start + 3_600_000 });
    expect(error.field).toBe('stopDate');
    expect(error.message).toContain('no fire time between');
  });

  it('refuses dates that are not dates, and bad limits', async () => {
    expect((await refusal('alarm', { cron: '* * * * *', startDate: 'next tuesday' })).field).toBe('startDate');
    expect((await refusal('alarm', { cron: '* * * * *', maxTriggers: 0 })).field).toBe('maxTriggers');
    expect((await refusal('alarm', { cron: '* * * * *', catchUp: 'sometimes' })).field).toBe('catchUp');
    expect((await refusal('alarm', { cron: '* * * * *', maxCatchUp: 0 })).field).toBe('maxCatchUp');
    expect((await refusal('alarm', { cron: '* * * * *', trigger_payload: 42 })).field).toBe('trigger_payload');
  });

  it('accepts epoch milliseconds and ISO dates, and maxTriggers -1 as unlimited', async () => {
    const start = Date.now() + 60_000;
    await expect(validate('alarm', { cron: '* * * * *', startDate: start, stopDate: new Date(start + 86_400_000).toISOString(), maxTriggers: -1 })).resolves.toBeDefined();
  });
});

describe('interval parameters', () => {
  it('takes minutes or seconds, as numbers or numeric strings', async () => {
    expect(await validate('interval', { minutes: 5 })).toEqual({ minutes: 5 });
    expect(await validate('interval', { seconds: '1' })).toEqual({ seconds: 1 });
  });

  it('refuses both minutes and seconds, and neither', async () => {
    const both = await refusal('interval', { minutes: 1, seconds: 30 });
    expect(both.field).toBe('seconds');
    expect(both.message).toContain('either minutes or seconds, not both');
    expect((await refusal('interval', {})).field).toBe('minutes');
  });

  it('refuses intervals below one unit, fractions, and unknown fields', async () => {
    expect((await refusal('interval', { minutes: 0 })).field).toBe('minutes');
    expect((await refusal('interval', { seconds: 0.5 })).field).toBe('seconds');
    expect((await refusal('interval', { minutes: 1, cron: '* * * * *' })).field).toBe('cron');
  });

  it('refuses a stopDate before startDate, or nearer than one interval', async () => {
    const start = Date.now() + 3_600_000;
    expect((await refusal('interval', { minutes: 1, startDate: start, stopDate: start - 1 })).field).toBe('stopDate');
    expect((await refusal('interval', { minutes: 10, stopDate: Date.now() + 60_000 })).message).toContain('less than one interval away');
  });
});

describe('once parameters', () => {
  it('takes a future date and deleteAfterFire', async () => {
    const date = hourFromNow();
    expect(await validate('once', { date, deleteAfterFire: true })).toEqual({ date, deleteAfterFire: true });
    await expect(validate('once', { date, deleteAfterFire: 'rules' })).resolves.toBeDefined();
  });

  it('refuses a date in the past, a missing date, and a bad deleteAfterFire', async () => {
    const past = await refusal('once', { date: Date.now() - 1000 });
    expect(past.field).toBe('date');
    expect(past.message).toContain('must be in the future');
    expect((await refusal('once', {})).field).toBe('date');
    expect((await refusal('once', { date: hourFromNow(), deleteAfterFire: 'yes' })).field).toBe('deleteAfterFire');
  });
});

describe('trigger_payload', () => {
  it('is the event data: an object as is, a JSON object string parsed, any other string wrapped', () => {
    expect(eventData({ a: 1 })).toEqual({ a: 1 });
    expect(eventData('{"b":2}')).toEqual({ b: 2 });
    expect(eventData('hello')).toEqual({ payload: 'hello' });
    expect(eventData('[1,2]')).toEqual({ payload: '[1,2]' });
    expect(eventData(undefined)).toEqual({});
  });
});
