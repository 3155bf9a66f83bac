import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createLogger } from '@kindling/core';
import { Writable } from 'node:stream';
import { basic, GUEST_KEY, openHarness, type Harness } from '../test-support/api-harness.js';

describe('request logs', () => {
  let harness: Harness;
  const lines: string[] = [];

  beforeEach(async () => {
    lines.length = 0;
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    harness = await openHarness({ log: createLogger({ level: 'debug', destination }) });
  });

  afterEach(async () => {
    await harness.close();
  });

  it('writes one JSON line per request with its request id, and never a key or a feed secret', async () => {
    const headers = { authorization: basic(GUEST_KEY) };
    await harness.http({ method: 'PUT', url: '/api/v1/namespaces/_/triggers/t', headers, payload: {} });
    const create = await harness.http({
      method: 'POST',
      url: '/api/v1/namespaces/whisk.system/actions/testkit/ticker?blocking=true',
      headers,
      payload: { lifecycleEvent: 'CREATE', triggerName: '/_/t', authKey: GUEST_KEY, everyMs: 1000, token: 'tok-very-secret' },
    });
    expect(create.statusCode).toBe(200);
    await harness.http({ method: 'GET', url: '/api/v1/namespaces/_/actions', headers: { authorization: basic('nobody:wrong') } });

    const requests = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request');
    expect(requests).toHaveLength(3);
    expect(requests[1]).toMatchObject({ requestId: create.headers['x-request-id'], method: 'POST', status: 200 });
    expect(requests[2]).toMatchObject({ status: 401 });
    const text = lines.join('\n');
    expect(text).not.toContain(GUEST_KEY.split(':')[1]);
    expect(text).not.toContain('tok-very-secret');
    expect(text).not.toContain(basic(GUEST_KEY).slice(6));
  });
});
