import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { basic, GUEST_KEY, openHarness, type Harness } from '../test-support/api-harness.js';

/** `GET /api/v1/providers`: what `kindling provider list` shows. */
describe('provider routes', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await openHarness();
  });

  afterAll(async () => {
    await harness.close();
  });

  it('lists the loaded providers with each kind, its secrets and its parameter schema', async () => {
    const response = await harness.http({ method: 'GET', url: '/api/v1/providers', headers: { authorization: basic(GUEST_KEY) } });
    expect(response.statusCode).toBe(200);
    const providers = response.json() as Array<{ name: string; kinds: Array<{ name: string; secrets: string[]; schema: { properties?: Record<string, unknown> } }> }>;
    const testkit = providers.find((p) => p.name === 'testkit');
    expect(testkit).toBeDefined();
    const ticker = testkit!.kinds.find((k) => k.name === 'ticker');
    expect(ticker?.secrets).toEqual(['token']);
    expect(Object.keys(ticker?.schema.properties ?? {})).toEqual(expect.arrayContaining(['everyMs', 'token']));
  });

  it('asks for credentials', async () => {
    const response = await harness.http({ method: 'GET', url: '/api/v1/providers' });
    expect(response.statusCode).toBe(401);
  });
});
