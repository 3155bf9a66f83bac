import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { decodeJson, Subjects, triggerActivationId, type CloudEvent } from '@kindling/core';
import { basic, GUEST_KEY, openHarness, OTHER_KEY, type Harness } from '../test-support/api-harness.js';
import type { HttpRequest, HttpResponse } from '../test-support/http-client.js';

const CODE = 'function main(p) { return { greeting: "hello " + p.name } }';

describe('REST API: actions, triggers, rules, namespaces', () => {
  let harness: Harness;
  let http: (request: HttpRequest) => Promise<HttpResponse>;

  const call = (method: string, url: string, payload?: unknown, key = GUEST_KEY) =>
    http({ method, url, headers: { authorization: basic(key) }, ...(payload === undefined ? {} : { payload }) });

  beforeEach(async () => {
    harness = await openHarness({ validateRuleFilter: (filter) => {
      if ('$where' in filter) throw new Error('$where is not allowed');
    } });
    http = harness.http;
  });

  afterEach(async () => {
    await harness.close();
  });

  it('creates, reads, lists and deletes an action in OpenWhisk shapes', async () => {
    const put = await call('PUT', '/api/v1/namespaces/_/actions/hello', { exec: { kind: 'nodejs:20', code: CODE }, parameters: [{ key: 'name', value: 'World' }] });
    expect(put.statusCode).toBe(200);
    const created = put.json();
    expect(created).toMatchObject({
      namespace: 'guest',
      name: 'hello',
      version: '0.0.1',
      publish: false,
      exec: { kind: 'nodejs:20', code: CODE, binary: false },
      parameters: [{ key: 'name', value: 'World' }],
      limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 },
    });
    expect(created.annotations).toEqual(expect.arrayContaining([{ key: 'provide-api-key', value: false }, { key: 'exec', value: 'nodejs:20' }]));

    const get = await call('GET', '/api/v1/namespaces/guest/actions/hello');
    expect(get.json()).toEqual(created);
    const withoutCode = await call('GET', '/api/v1/namespaces/_/actions/hello?code=false');
    expect(withoutCode.json().exec).toEqual({ kind: 'nodejs:20', binary: false });

    const list = await call('GET', '/api/v1/namespaces/_/actions');
    expect(list.json()).toEqual([
      { namespace: 'guest', name: 'hello', version: '0.0.1', publish: false, annotations: created.annotations, updated: created.updated, limits: created.limits, exec: { binary: false } },
    ]);
    expect((await call('GET', '/api/v1/namespaces/_/actions?count=true')).json()).toEqual({ actions: 1 });

    const del = await call('DELETE', '/api/v1/namespaces/_/actions/hello');
    expect(del.statusCode).toBe(200);
    expect(del.json().name).toBe('hello');
    expect((await call('GET', '/api/v1/namespaces/_/actions/hello')).statusCode).toBe(404);
  });

  it('refuses to replace an entity without overwrite=true (409) and bumps the version with it', async () => {
    const body = { exec: { kind: 'nodejs:20', code: CODE } };
    expect((await call('PUT', '/api/v1/namespaces/_/actions/a', body)).statusCode).toBe(200);
    const again = await call('PUT', '/api/v1/namespaces/_/actions/a', body);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: 'resource already exists', kindlingCode: 'KND_CONFLICT' });
    const update = await call('PUT', '/api/v1/namespaces/_/actions/a?overwrite=true', { limits: { timeout: 1000 } });
    expect(update.statusCode).toBe(200);
    expect(update.json()).toMatchObject({ version: '0.0.2', limits: { timeout: 1000, memory: 256 }, exec: { code: CODE } });

    expect((await call('PUT', '/api/v1/namespaces/_/triggers/t', {})).statusCode).toBe(200);
    expect((await call('PUT', '/api/v1/namespaces/_/triggers/t', {})).statusCode).toBe(409);
  });

  it('answers every error with {error, code = request id, kindlingCode} and an X-Request-ID header', async () => {
    const response = await call('GET', '/api/v1/namespaces/_/actions/missing');
    expect(response.statusCode).toBe(404);
    const body = response.json();
    expect(body).toEqual({ error: 'The requested resource does not exist.', code: response.headers['x-request-id'], kindlingCode: 'KND_NOT_FOUND' });
    expect(body.code).toMatch(/^[0-9a-f]{32}$/);

    const ok = await call('GET', '/api/v1/namespaces');
    expect(ok.json()).toEqual(['guest']);
    expect(ok.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(ok.headers['access-control-allow-origin']).toBe('*');

    const unknownRoute = await call('GET', '/api/v1/nothing/here');
    expect(unknownRoute.statusCode).toBe(404);
    expect(unknownRoute.json().kindlingCode).toBe('KND_NOT_FOUND');
  });

  it('keeps a caller-supplied request id that is a plain token', async () => {
    const response = await http({ method: 'GET', url: '/api/v1/namespaces', headers: { authorization: basic(GUEST_KEY), 'x-request-id': 'tx-42' } });
    expect(response.headers['x-request-id']).toBe('tx-42');
  });

  it('answers CORS preflights as OpenWhisk does', async () => {
    const response = await http({ method: 'OPTIONS', url: '/api/v1/namespaces/_/actions/x' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-allow-methods']).toBe('GET, DELETE, POST, PUT, HEAD');
    expect(response.headers['access-control-allow-headers']).toContain('Authorization');
  });

  it('401s a missing or wrong key with a Basic challenge, and 403s another namespace', async () => {
    const missing = await http({ method: 'GET', url: '/api/v1/namespaces/_/actions' });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Basic realm="OpenWhisk secure realm"');
    expect(missing.json().kindlingCode).toBe('KND_UNAUTHENTICATED');

    const wrongKey = GUEST_KEY.replace(/.$/, 'x');
    const wrong = await call('GET', '/api/v1/namespaces/_/actions', undefined, wrongKey);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('The supplied authentication is invalid.');

    await call('PUT', '/api/v1/namespaces/_/actions/mine', { exec: { kind: 'nodejs:20', code: CODE } });
    const other = await call('GET', '/api/v1/namespaces/guest/actions/mine', undefined, OTHER_KEY);
    expect(other.statusCode).toBe(403);
    expect(other.json().error).toBe('The supplied authentication is not authorized to access this resource.');
    // `_` is the other caller's own namespace, where `mine` does not exist.
    expect((await call('GET', '/api/v1/namespaces/_/actions/mine', undefined, OTHER_KEY)).statusCode).toBe(404);
    expect((await call('POST', '/api/v1/namespaces/guest/triggers/x', {}, OTHER_KEY)).statusCode).toBe(403);
  });

  it('refuses malformed JSON, unknown fields and a payload over the limit, storing nothing', async () => {
    const malformed = await http({
      method: 'PUT',
      url: '/api/v1/namespaces/_/actions/bad',
      headers: { authorization: basic(GUEST_KEY), 'content-type': 'application/json' },
      payload: '{"exec": {"kind": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error).toMatch(/malformed/);

    const unknown = await call('PUT', '/api/v1/namespaces/_/actions/bad', { exec: { kind: 'nodejs:20', code: CODE }, colour: 'blue' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toContain("'colour'");

    const badLimit = await call('PUT', '/api/v1/namespaces/_/actions/bad', { exec: { kind: 'nodejs:20', code: CODE }, limits: { timeout: 5 } });
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json().error).toContain('limits.timeout');

    const noExec = await call('PUT', '/api/v1/namespaces/_/actions/bad', {});
    expect(noExec.statusCode).toBe(400);
    expect(noExec.json().error).toContain('exec');

    const big = await call('PUT', '/api/v1/namespaces/_/actions/bad', { exec: { kind: 'nodejs:20', code: 'x'.repeat(2 * 1024 * 1024) } });
    expect(big.statusCode).toBe(413);
    expect(big.json().kindlingCode).toBe('KND_PAYLOAD_TOO_LARGE');

    expect((await call('GET', '/api/v1/namespaces/_/actions/bad')).statusCode).toBe(404);
  });

  it('accepts names with ".", spaces and "@", routes them safely, and refuses "*" and ">"', async () => {
    for (const name of ['door.bell', 'front door', 'me@home']) {
      const url = `/api/v1/namespaces/_/triggers/${encodeURIComponent(name)}`;
      expect((await call('PUT', url, { parameters: [{ key: 'where', value: name }] })).statusCode).toBe(200);
      expect((await call('GET', url)).json()).toMatchObject({ name, parameters: [{ key: 'where', value: name }] });
    }
    const names = (await call('GET', '/api/v1/namespaces/_/triggers')).json().map((t: { name: string }) => t.name);
    expect(names.sort()).toEqual(['door.bell', 'front door', 'me@home']);

    for (const name of ['a*', 'a>b', '>']) {
      const refused = await call('PUT', `/api/v1/namespaces/_/triggers/${encodeURIComponent(name)}`, {});
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ kindlingCode: 'KND_BAD_NAME' });
      expect(refused.json().error).toContain('must start with a letter');
    }
  });

  it('links rules to triggers: rules map on the trigger, enable/disable, validation of references and filter', async () => {
    await call('PUT', '/api/v1/namespaces/_/actions/hello', { exec: { kind: 'nodejs:20', code: CODE } });
    await call('PUT', '/api/v1/namespaces/_/triggers/events', {});

    const missingTrigger = await call('PUT', '/api/v1/namespaces/_/rules/r', { trigger: '/_/nope', action: '/_/hello' });
    expect(missingTrigger.statusCode).toBe(400);
    expect(missingTrigger.json().error).toBe('trigger /guest/nope does not exist');
    const badFilter = await call('PUT', '/api/v1/namespaces/_/rules/r', { trigger: '/_/events', action: '/_/hello', filter: { $where: 'x' } });
    expect(badFilter.statusCode).toBe(400);
    expect(badFilter.json().error).toContain("'filter'");
    const otherNs = await call('PUT', '/api/v1/namespaces/_/rules/r', { trigger: '/other/events', action: '/_/hello' });
    expect(otherNs.statusCode).toBe(403);

    const put = await call('PUT', '/api/v1/namespaces/_/rules/r', { trigger: '/_/events', action: '/_/hello', filter: { 'data.n': { $gt: 1 } } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({
      namespace: 'guest',
      name: 'r',
      status: 'active',
      trigger: { path: 'guest', name: 'events' },
      action: { path: 'guest', name: 'hello' },
      filter: { 'data.n': { $gt: 1 } },
    });
    const trigger = (await call('GET', '/api/v1/namespaces/_/triggers/events')).json();
    expect(trigger.rules).toEqual({ 'guest/r': { action: { path: 'guest', name: 'hello' }, status: 'active' } });

    const disable = await call('POST', '/api/v1/namespaces/_/rules/r?', { status: 'inactive' });
    expect(disable.statusCode).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/_/rules/r')).json().status).toBe('inactive');
    // No active rule: the fire is answered 204 and nothing is published.
    expect((await call('POST', '/api/v1/namespaces/_/triggers/events?', { n: 2 })).statusCode).toBe(204);
    expect((await call('POST', '/api/v1/namespaces/_/rules/r', { status: 'active' })).statusCode).toBe(200);

    const del = await call('DELETE', '/api/v1/namespaces/_/rules/r');
    expect(del.json()).toMatchObject({ name: 'r', status: 'inactive' });
    expect((await call('GET', '/api/v1/namespaces/_/rules')).json()).toEqual([]);
  });

  it('fires a trigger with an active rule: a CloudEvent on the bus and 202 with the trigger activation id', async () => {
    await call('PUT', '/api/v1/namespaces/_/actions/hello', { exec: { kind: 'nodejs:20', code: CODE } });
    await call('PUT', '/api/v1/namespaces/_/triggers/door.bell', {});
    await call('PUT', '/api/v1/namespaces/_/rules/ring', { trigger: '/_/door.bell', action: '/_/hello' });

    const seen: CloudEvent[] = [];
    const consumption = await harness.bus.consume({ durable: 'api-test-events', filter: Subjects.event('guest', 'door.bell') }, async (message) => {
      seen.push(decodeJson<CloudEvent>(message.data));
      message.ack();
    });
    try {
      const fire = await call('POST', '/api/v1/namespaces/_/triggers/door.bell?', { visitor: 'Ann' });
      expect(fire.statusCode).toBe(202);
      const { activationId } = fire.json();
      expect(fire.headers['x-openwhisk-activation-id']).toBe(activationId);
      for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(seen).toHaveLength(1);
      const event = seen[0]!;
      expect(event).toMatchObject({ specversion: '1.0', data: { visitor: 'Ann' }, kindlingnamespace: 'guest', kindlingtrigger: 'door.bell' });
      expect(activationId).toBe(triggerActivationId('guest', 'door.bell', event.id, Date.parse(event.time)));
    } finally {
      await consumption.stop();
    }
  });

  it('lists namespaces, limits, and providers as whisk.system packages', async () => {
    expect((await call('GET', '/api/v1/namespaces/_/limits')).json()).toMatchObject({ maxActionTimeout: 300000, maxParameterSize: 1024 * 1024 });
    expect((await call('GET', '/api/v1/namespaces/_/packages')).json()).toEqual([]);
    const packages = (await call('GET', '/api/v1/namespaces/whisk.system/packages')).json();
    expect(packages).toEqual([expect.objectContaining({ namespace: 'whisk.system', name: 'testkit', binding: false })]);
    const pkg = (await call('GET', '/api/v1/namespaces/whisk.system/packages/testkit')).json();
    expect(pkg.feeds.map((f: { name: string }) => f.name)).toEqual(['ticker', 'webhook']);
  });

  it('answers /health and /metrics', async () => {
    const health = await http({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok', checks: { store: 'ok', bus: 'ok' } });

    await call('GET', '/api/v1/namespaces/_/actions/missing');
    const metrics = await http({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/kindling_http_requests_total\{method="GET",route="\/api\/v1\/namespaces\/:ns\/actions\/:name",status="404"\} 1/);
    expect(metrics.body).toContain('kindling_http_request_duration_seconds_bucket');
  });
});
