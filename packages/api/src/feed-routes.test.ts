import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { decodeJson, Subjects, type CloudEvent } from '@kindling/core';
import { FeedRepository } from '@kindling/host';
import { basic, GUEST_KEY, openHarness, OTHER_KEY, PUBLIC_URL, type Harness } from '../test-support/api-harness.js';
import { eventually } from '@kindling/test-support';
import type { HttpRequest, HttpResponse } from '../test-support/http-client.js';

const FEED_ACTION = '/api/v1/namespaces/whisk.system/actions/testkit/ticker?blocking=true';

describe('feeds: lifecycle through the OpenWhisk feed action, the one-step trigger PUT and /feeds', () => {
  let harness: Harness;
  let http: (request: HttpRequest) => Promise<HttpResponse>;
  let repo: FeedRepository;

  const call = (method: string, url: string, payload?: unknown, key = GUEST_KEY) =>
    http({ method, url, headers: { authorization: basic(key) }, ...(payload === undefined ? {} : { payload }) });

  const feedAction = (lifecycleEvent: string, params: Record<string, unknown> = {}, trigger = '/_/tick') =>
    call('POST', FEED_ACTION, { lifecycleEvent, triggerName: trigger, authKey: GUEST_KEY, ...params });

  const feedRecords = async () => (await repo.feeds.list()).map((entry) => entry.value);
  const trigger = async (name: string) => (await call('GET', `/api/v1/namespaces/_/triggers/${encodeURIComponent(name)}`)).json();

  beforeEach(async () => {
    harness = await openHarness({ hookBodyLimitBytes: 1024 });
    http = harness.http;
    repo = await FeedRepository.open(harness.store);
  });

  afterEach(async () => {
    await harness.close();
  });

  it('shows the feed action, with its feed annotation, to any caller', async () => {
    const action = await call('GET', '/api/v1/namespaces/whisk.system/actions/testkit/ticker');
    expect(action.statusCode).toBe(200);
    expect(action.json()).toMatchObject({ namespace: 'whisk.system/testkit', name: 'ticker' });
    expect(action.json().annotations).toEqual(expect.arrayContaining([{ key: 'feed', value: true }]));
    const params = action.json().annotations.find((a: { key: string }) => a.key === 'parameters').value;
    expect(params).toEqual(expect.arrayContaining([{ name: 'everyMs', required: true, description: 'milliseconds between fires' }]));
    expect((await call('GET', '/api/v1/namespaces/whisk.system/actions/testkit/nope')).statusCode).toBe(404);
  });

  it('runs CREATE READ UPDATE PAUSE UNPAUSE DELETE through the feed action', async () => {
    await call('PUT', '/api/v1/namespaces/_/triggers/tick', { annotations: [{ key: 'feed', value: '/whisk.system/testkit/ticker' }] });

    const create = await feedAction('CREATE', { everyMs: 1000, token: 's3cret-token' });
    expect(create.statusCode).toBe(200);
    const activation = create.json();
    expect(create.headers['x-openwhisk-activation-id']).toBe(activation.activationId);
    expect(activation).toMatchObject({ namespace: 'guest', name: 'ticker', response: { status: 'success', success: true } });
    const created = activation.response.result;
    expect(created).toMatchObject({
      namespace: 'guest',
      trigger: 'tick',
      provider: 'testkit',
      kind: 'ticker',
      feed: '/whisk.system/testkit/ticker',
      params: { everyMs: 1000, token: '********' },
      desired: 'active',
      generation: 1,
    });
    expect(JSON.stringify(activation)).not.toContain('s3cret-token');
    expect((await trigger('tick')).feedId).toBe(created.id);
    const [stored] = await feedRecords();
    expect(stored).toMatchObject({ id: created.id, namespace: 'guest', trigger: 'tick', params: { everyMs: 1000, token: 's3cret-token' }, desired: 'active', generation: 1 });

    // The provider host runs it; READ shows the status it reports and the kind's describe().
    const read = await eventually(async () => {
      const result = (await feedAction('READ')).json().response.result;
      return result.status.status === 'active' ? result : undefined;
    }, 'an active feed');
    expect(read.details).toEqual({ nextFireInMs: 1000, cursor: null });
    expect(read.status).toMatchObject({ status: 'active', fires: 0, failures: 0 });

    const update = (await feedAction('UPDATE', { everyMs: 2000 })).json().response.result;
    expect(update).toMatchObject({ params: { everyMs: 2000, token: '********' }, generation: 2 });
    expect((await repo.feeds.get(created.id))!.value.params).toEqual({ everyMs: 2000, token: 's3cret-token' });

    expect((await feedAction('PAUSE')).json().response.result).toMatchObject({ desired: 'paused', generation: 3 });
    await eventually(async () => (await repo.statuses.get(created.id))?.value.status === 'paused', 'a paused status');
    expect((await feedAction('UNPAUSE')).json().response.result).toMatchObject({ desired: 'active', generation: 4 });

    const deleted = await feedAction('DELETE');
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json().response.result).toMatchObject({ id: created.id, desired: 'deleted' });
    expect((await trigger('tick')).feedId).toBeUndefined();
    // The provider host tears it down and removes the record.
    await eventually(async () => (await repo.feeds.get(created.id)) === null, 'the feed record removed');
    expect((await feedAction('READ')).statusCode).toBe(404);

    // Each successful lifecycle call (6 events, READ maybe repeated) is an activation of the caller, as in OpenWhisk.
    const names = (await call('GET', '/api/v1/namespaces/_/activations?limit=0')).json().map((a: { name: string }) => a.name);
    expect(names.filter((n: string) => n === 'ticker').length).toBeGreaterThanOrEqual(6);
  });

  it('refuses bad feed parameters with a 400 naming the field, and stores nothing', async () => {
    await call('PUT', '/api/v1/namespaces/_/triggers/tick', {});
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ everyMs: 'soon' }, "'everyMs'"],
      [{ everyMs: 5, colour: 'red' }, "'colour'"],
      [{ everyMs: 5, startDate: '2030-01-02T00:00:00Z', stopDate: '2030-01-01T00:00:00Z' }, "'stopDate': must be after startDate"],
    ];
    for (const [params, named] of cases) {
      const response = await feedAction('CREATE', params);
      expect(response.statusCode).toBe(400);
      const body = response.json();
      expect(body.error).toContain(named);
      expect(body.code).toBe(response.headers['x-request-id']);
      expect(body.kindlingCode).toBe('KND_BAD_FEED_PARAMS');
    }
    const noEvent = await call('POST', FEED_ACTION, { triggerName: '/_/tick', everyMs: 5 });
    expect(noEvent.statusCode).toBe(400);
    expect(noEvent.json().error).toContain("'lifecycleEvent'");

    expect(await feedRecords()).toEqual([]);
    expect((await trigger('tick')).feedId).toBeUndefined();
  });

  it('acts for the owner of authKey only: another namespace is a 403, a bad key too', async () => {
    await call('PUT', '/api/v1/namespaces/_/triggers/tick', {});
    const foreign = await call('POST', FEED_ACTION, { lifecycleEvent: 'CREATE', triggerName: '/guest/tick', authKey: OTHER_KEY, everyMs: 5 }, OTHER_KEY);
    expect(foreign.statusCode).toBe(403);
    const badKey = await call('POST', FEED_ACTION, { lifecycleEvent: 'CREATE', triggerName: '/_/tick', authKey: `${GUEST_KEY}x`, everyMs: 5 });
    expect(badKey.statusCode).toBe(403);
    expect(badKey.json().error).toContain('authKey');
    expect(await feedRecords()).toEqual([]);
  });

  it('creates a trigger and its feed in one PUT, and deleting the trigger deletes the feed', async () => {
    const bad = await call('PUT', '/api/v1/namespaces/_/triggers/every%20second', {
      feed: { provider: 'testkit', kind: 'ticker', params: { everyMs: 5, startDate: '2030-01-02', stopDate: '2030-01-01' } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toContain("'feed.params.stopDate'");
    const unknownKind = await call('PUT', '/api/v1/namespaces/_/triggers/every%20second', { feed: { provider: 'testkit', kind: 'nope', params: {} } });
    expect(unknownKind.statusCode).toBe(400);
    expect(unknownKind.json().kindlingCode).toBe('KND_UNKNOWN_PROVIDER');
    expect((await call('GET', '/api/v1/namespaces/_/triggers/every%20second')).statusCode).toBe(404);
    expect(await feedRecords()).toEqual([]);

    const put = await call('PUT', '/api/v1/namespaces/_/triggers/every%20second', { feed: { provider: 'testkit', kind: 'ticker', params: { everyMs: 1000 } } });
    expect(put.statusCode).toBe(200);
    const created = put.json();
    expect(created.annotations).toEqual([{ key: 'feed', value: '/whisk.system/testkit/ticker' }]);
    expect(created.feedId).toMatch(/^[0-9a-f]{32}$/);
    const view = (await call('GET', '/api/v1/namespaces/_/feeds/every%20second')).json();
    expect(view).toMatchObject({ id: created.feedId, trigger: 'every second', params: { everyMs: 1000 } });
    await eventually(() => harness.host.runningFeeds().includes(created.feedId), 'the feed running');

    expect((await call('DELETE', '/api/v1/namespaces/_/triggers/every%20second')).statusCode).toBe(200);
    await eventually(async () => (await repo.feeds.get(created.feedId)) === null, 'the feed record removed');
    expect(harness.host.runningFeeds()).not.toContain(created.feedId);
  });

  it('drives a feed through /feeds/{trigger}: create, 409, overwrite, pause, list, delete', async () => {
    await call('PUT', '/api/v1/namespaces/_/triggers/t', {});
    const badParam = await call('PUT', '/api/v1/namespaces/_/feeds/t', { provider: 'testkit', kind: 'ticker', params: { everyMs: -1 } });
    expect(badParam.statusCode).toBe(400);
    expect(badParam.json().error).toContain("'params.everyMs'");
    const unknownField = await call('PUT', '/api/v1/namespaces/_/feeds/t', { provider: 'testkit', kind: 'ticker', params: { everyMs: 1 }, extra: 1 });
    expect(unknownField.json().error).toContain("'extra'");
    expect(await feedRecords()).toEqual([]);

    const created = await call('PUT', '/api/v1/namespaces/_/feeds/t', { provider: 'testkit', kind: 'ticker', params: { everyMs: 1000 } });
    expect(created.statusCode).toBe(200);
    const feedId = created.json().id;
    expect((await call('PUT', '/api/v1/namespaces/_/feeds/t', { params: { everyMs: 5 } })).statusCode).toBe(409);
    const changeKind = await call('PUT', '/api/v1/namespaces/_/feeds/t?overwrite=true', { kind: 'webhook' });
    expect(changeKind.statusCode).toBe(400);
    expect(changeKind.json().error).toContain("'kind'");
    const updated = await call('PUT', '/api/v1/namespaces/_/feeds/t?overwrite=true', { params: { everyMs: 5 } });
    expect(updated.json()).toMatchObject({ id: feedId, params: { everyMs: 5 }, generation: 2 });

    const paused = await call('POST', '/api/v1/namespaces/_/feeds/t', { action: 'pause' });
    expect(paused.json()).toMatchObject({ desired: 'paused', generation: 3 });
    expect((await call('POST', '/api/v1/namespaces/_/feeds/t', { action: 'stop' })).statusCode).toBe(400);
    await eventually(async () => (await call('GET', '/api/v1/namespaces/_/feeds/t')).json().status.status === 'paused', 'a paused status');

    const list = (await call('GET', '/api/v1/namespaces/_/feeds')).json();
    expect(list.map((f: { id: string }) => f.id)).toEqual([feedId]);
    expect((await call('GET', '/api/v1/namespaces/_/feeds', undefined, OTHER_KEY)).json()).toEqual([]);
    expect((await call('GET', '/api/v1/namespaces/guest/feeds/t', undefined, OTHER_KEY)).statusCode).toBe(403);

    expect((await call('DELETE', '/api/v1/namespaces/_/feeds/t')).json()).toMatchObject({ id: feedId, desired: 'deleted' });
    expect((await call('GET', '/api/v1/namespaces/_/feeds/t')).statusCode).toBe(404);
    expect((await trigger('t')).feedId).toBeUndefined();
  });

  it('lists feeds a page at a time, filtered by status, provider and trigger prefix, newest change first', async () => {
    const names = ['night-1', 'night-2', 'night-3', 'day-1', 'day-2'];
    for (const name of names) {
      await call('PUT', `/api/v1/namespaces/_/triggers/${name}`, { feed: { provider: 'testkit', kind: 'ticker', params: { everyMs: 60_000 } } });
    }
    await call('POST', '/api/v1/namespaces/_/feeds/day-2', { action: 'pause' });
    const triggersOf = async (query: string) => ((await call('GET', `/api/v1/namespaces/_/feeds${query}`)).json() as Array<{ trigger: string }>).map((f) => f.trigger);

    expect(await triggersOf('')).toEqual(['day-2', 'day-1', 'night-3', 'night-2', 'night-1']);
    expect(await triggersOf('?limit=2&skip=1')).toEqual(['day-1', 'night-3']);
    expect(await triggersOf('?trigger=night-')).toEqual(['night-3', 'night-2', 'night-1']);
    expect(await triggersOf('?provider=other')).toEqual([]);
    expect((await call('GET', '/api/v1/namespaces/_/feeds?count=true&trigger=day')).json()).toEqual({ feeds: 2 });
    await eventually(async () => (await triggersOf('?status=paused')).join() === 'day-2', 'the paused feed found by its status');
    await eventually(async () => (await triggersOf('?status=active&provider=testkit')).length === 4, 'the active feeds found by their status');

    const bad = await call('GET', '/api/v1/namespaces/_/feeds?status=sleeping');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toContain("'status'");
    expect((await call('GET', '/api/v1/namespaces/_/feeds?limit=500')).statusCode).toBe(400);
  });

  it('routes /hooks/<provider>/<feed id> to the feed: raw body, 404, 413, provider error status, 503 on a crash', async () => {
    const put = await call('PUT', '/api/v1/namespaces/_/triggers/pushes', { feed: { provider: 'testkit', kind: 'webhook', params: { secret: 'hook-secret' } } });
    const feedId = put.json().feedId;
    const view = (await call('GET', '/api/v1/namespaces/_/feeds/pushes')).json();
    expect(view.hookUrl).toBe(`${PUBLIC_URL}/hooks/testkit/${feedId}`);
    expect(view.params).toEqual({ secret: '********' });
    await eventually(() => harness.host.runningFeeds().includes(feedId), 'the hook feed running');

    const seen: CloudEvent[] = [];
    const consumption = await harness.bus.consume({ durable: 'api-hook-test', filter: Subjects.event('guest', 'pushes') }, async (message) => {
      seen.push(decodeJson<CloudEvent>(message.data));
      message.ack();
    });
    try {
      const hookUrl = `/hooks/testkit/${feedId}?delivery=7`;
      const ok = await http({ method: 'POST', url: hookUrl, headers: { 'x-test-secret': 'hook-secret', 'content-type': 'text/plain' }, payload: 'not json at all' });
      expect(ok.statusCode).toBe(202);
      const { eventId } = ok.json();
      await eventually(() => seen.length > 0, 'the hook event on the bus');
      expect(seen[0]).toMatchObject({ id: eventId, data: { text: 'not json at all', size: 15, query: { delivery: '7' } } });

      const wrongSecret = await http({ method: 'POST', url: hookUrl, headers: { 'x-test-secret': 'nope' }, payload: '{}' });
      expect(wrongSecret.statusCode).toBe(401);
      expect(wrongSecret.headers['www-authenticate']).toBeUndefined();
      expect(wrongSecret.json()).toMatchObject({ error: 'bad x-test-secret', kindlingCode: 'KND_UNAUTHENTICATED' });

      const crash = await http({ method: 'POST', url: hookUrl, headers: { 'x-test-secret': 'hook-secret', 'x-test-crash': '1' }, payload: '{}' });
      expect(crash.statusCode).toBe(503);

      const tooBig = await http({ method: 'POST', url: hookUrl, headers: { 'x-test-secret': 'hook-secret' }, payload: Buffer.alloc(4096, 'a') });
      expect(tooBig.statusCode).toBe(413);

      const unknown = await http({ method: 'POST', url: '/hooks/testkit/0123456789abcdef0123456789abcdef', payload: '{}' });
      expect(unknown.statusCode).toBe(404);
      expect(seen).toHaveLength(1);
    } finally {
      await consumption.stop();
    }
  });
});
