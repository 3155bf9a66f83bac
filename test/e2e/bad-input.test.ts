import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PlatformFixture } from './platform-support.js';

/**
 * Bad input against the whole platform: each a clear 4xx whose message names the problem, and
 * nothing stored. (The API's own suites cover more cases against a test provider; these use the
 * real alarms provider as `kindling up` loads it.)
 */
describe('bad input through kindling up', () => {
  const fixture = new PlatformFixture('embedded');
  let auth: string;

  const call = async (method: string, path: string, body?: unknown, key = auth) => {
    const response = await fetch(`${fixture.platform.apiUrl}/api/v1/namespaces/_/${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from(key).toString('base64')}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as { error?: string }) : {} };
  };

  beforeAll(async () => {
    await fixture.start();
    auth = fixture.platform.guestAuth;
  });

  afterAll(async () => {
    await fixture.dispose();
  });

  it('refuses a bad cron string, naming the field, and stores no trigger', async () => {
    const response = await call('PUT', 'triggers/t1', { feed: { provider: 'alarms', kind: 'alarm', params: { cron: '61 * * * *' } } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/cron/);
    expect((await call('GET', 'triggers/t1')).status).toBe(404);
  });

  it('refuses a stopDate before the startDate, and unknown feed parameters', async () => {
    const dates = await call('PUT', 'triggers/t2', {
      feed: { provider: 'alarms', kind: 'interval', params: { minutes: 5, startDate: '2030-01-02T00:00:00Z', stopDate: '2030-01-01T00:00:00Z' } },
    });
    expect(dates.status).toBe(400);
    expect(dates.body.error).toMatch(/stopDate/);
    const unknown = await call('PUT', 'triggers/t2', { feed: { provider: 'alarms', kind: 'interval', params: { minutes: 5, every: 3 } } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/every/);
    expect((await call('GET', 'feeds')).body).toEqual([]);
  });

  it('answers malformed JSON, unknown fields, oversize payloads, bad keys and odd names clearly', async () => {
    const malformed = await call('PUT', 'actions/a1', '{"exec": ');
    expect(malformed.status).toBe(400);
    const unknownField = await call('PUT', 'actions/a1', { exec: { kind: 'nodejs:20', code: 'function main(){return {}}' }, colour: 'red' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error).toMatch(/colour/);
    const huge = await call('POST', 'triggers/t3', { blob: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    const wrongKey = await call('GET', 'actions', undefined, `${auth.split(':')[0]}:not-the-key`);
    expect(wrongKey.status).toBe(401);
    const elsewhere = await fetch(`${fixture.platform.apiUrl}/api/v1/namespaces/someone-else/actions`, {
      headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` },
    });
    expect(elsewhere.status).toBe(403);
    const wildcard = await call('PUT', `triggers/${encodeURIComponent('a>b')}`, {});
    expect(wildcard.status).toBe(400);
    const dotted = await call('PUT', `triggers/${encodeURIComponent('sensors.room 1')}`, {});
    expect(dotted.status).toBe(200);
    expect((await call('GET', 'actions')).body).toEqual([]);
  });
});
