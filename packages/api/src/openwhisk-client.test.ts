import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { activationIdFor, activationResponse, KeyValueActivationStore, type ActivationRecord } from '@kindling/core';
import { FeedRepository } from '@kindling/host';
import { openwhiskClient, type OpenWhiskClient } from '@kindling/test-support';
import { GUEST_KEY, openHarness, type Harness } from '../test-support/api-harness.js';
import { eventually } from '@kindling/test-support';

const CODE = 'function main(params) { return { payload: "Hello " + params.name } }';

/** The real `openwhisk` npm client against the API listening on a loopback port. */
describe('the openwhisk npm client', () => {
  let harness: Harness;
  let ow: OpenWhiskClient;

  beforeAll(async () => {
    harness = await openHarness();
    ow = openwhiskClient(harness.baseUrl, GUEST_KEY);
  });

  afterAll(async () => {
    await harness.close();
  });

  it('manages actions', async () => {
    const created = await ow.actions.create({ name: 'hello', action: CODE, params: { name: 'World' } });
    expect(created).toMatchObject({ namespace: 'guest', name: 'hello', exec: { kind: 'nodejs:default', code: CODE } });
    const got = await ow.actions.get({ name: 'hello' });
    expect(got.parameters).toEqual([{ key: 'name', value: 'World' }]);
    const updated = await ow.actions.update({ name: 'hello', action: CODE, limits: { timeout: 5000 } });
    expect(updated).toMatchObject({ version: '0.0.2', limits: { timeout: 5000 } });
    expect((await ow.actions.list()).map((a) => a.name)).toEqual(['hello']);
    await expect(ow.actions.create({ name: 'hello', action: CODE })).rejects.toMatchObject({ statusCode: 409 });
  });

  it('manages triggers and rules', async () => {
    await ow.triggers.create({ name: 'events', trigger: { parameters: [{ key: 'source', value: 'test' }] } });
    await ow.rules.create({ name: 'events-to-hello', trigger: 'events', action: 'hello' });
    const trigger = await ow.triggers.get({ name: 'events' });
    expect(trigger.rules).toEqual({ 'guest/events-to-hello': { action: { path: 'guest', name: 'hello' }, status: 'active' } });

    await ow.rules.disable({ name: 'events-to-hello' });
    expect((await ow.rules.get({ name: 'events-to-hello' })).status).toBe('inactive');
    // No active rule: 204, which the client resolves as an empty body.
    expect(await ow.triggers.invoke({ name: 'events', params: { n: 1 } })).toHaveLength(0);
    await ow.rules.enable({ name: 'events-to-hello' });
    const rule = await ow.rules.get({ name: 'events-to-hello' });
    expect(rule).toMatchObject({ status: 'active', trigger: { path: 'guest', name: 'events' }, action: { path: 'guest', name: 'hello' } });
    const fired = (await ow.triggers.invoke({ name: 'events', params: { n: 2 } })) as { activationId: string };
    expect(fired.activationId).toMatch(/^[0-9a-f]{32}$/);

    await ow.rules.delete({ name: 'events-to-hello' });
    await ow.triggers.delete({ name: 'events' });
    await expect(ow.triggers.get({ name: 'events' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('drives a feed of the test provider with feeds.create/get/delete', async () => {
    await ow.triggers.create({ name: 'ticks', trigger: { annotations: [{ key: 'feed', value: '/whisk.system/testkit/ticker' }] } });
    const created = await ow.feeds.create({ name: '/whisk.system/testkit/ticker', trigger: 'ticks', params: { everyMs: 1000, token: 'abcd-secret' } });
    expect(created.response.success).toBe(true);
    const feed = created.response.result as unknown as { id: string; params: Record<string, unknown> };
    expect(feed.params).toEqual({ everyMs: 1000, token: '********' });

    const read = await eventually(async () => {
      const activation = await ow.feeds.get({ name: '/whisk.system/testkit/ticker', trigger: 'ticks' });
      const result = activation.response.result as unknown as { status: { status: string } };
      return result.status.status === 'active' ? result : undefined;
    }, 'the feed active');
    expect(read).toMatchObject({ id: feed.id, trigger: 'ticks' });

    // A bad parameter surfaces as the client's error, with the field in its message.
    await expect(ow.feeds.update({ name: '/whisk.system/testkit/ticker', trigger: 'ticks', params: { everyMs: 'often' } })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("'everyMs'"),
    });

    await ow.feeds.delete({ name: '/whisk.system/testkit/ticker', trigger: 'ticks' });
    await ow.triggers.delete({ name: 'ticks' });
    const repo = await FeedRepository.open(harness.store);
    await eventually(async () => (await repo.feeds.get(feed.id)) === null, 'the feed record removed');
  });

  it('counts, filters by name and pages activations with count, name, skip and limit', async () => {
    const store = await KeyValueActivationStore.open(harness.store);
    const start = Date.now() - 60_000;
    const record = (namespace: string, name: string, i: number): ActivationRecord => ({
      namespace,
      name,
      subject: namespace,
      activationId: activationIdFor(start + i, namespace, name, String(i)),
      start: start + i,
      response: activationResponse(0, { i }),
      logs: [],
      annotations: [],
      version: '0.0.1',
      publish: false,
    });
    const sensor = Array.from({ length: 25 }, (_, i) => record('guest', 'sensor', i));
    await store.putMany([...sensor, ...Array.from({ length: 10 }, (_, i) => record('guest', 'other', i)), record('someone-else', 'sensor', 99)]);
    // The client's typings declare no `count`; it sends it (and answers `{ activations: n }`).
    const list = (options: Record<string, unknown>) => (ow.activations.list as (options: Record<string, unknown>) => Promise<unknown>).call(ow.activations, options);
    expect(await list({ name: 'sensor', count: true })).toEqual({ activations: 25 });
    const page = (await list({ name: 'sensor', skip: 20, limit: 10 })) as Array<{ activationId: string }>;
    expect(page.map((a) => a.activationId)).toEqual(sensor.slice(0, 5).map((r) => r.activationId).reverse());
    const since = (await list({ name: 'sensor', since: start + 20, count: true })) as { activations: number };
    expect(since).toEqual({ activations: 5 });
  });

  it('lists and reads activations, and deletes an action', async () => {
    const list = await ow.activations.list({ limit: 5 });
    // The feed lifecycle calls above are activations of the caller.
    expect(list.length).toBeGreaterThan(0);
    expect(list[0]).toMatchObject({ namespace: 'guest', name: 'ticker' });
    const id = list[0]!.activationId;
    const store = await KeyValueActivationStore.open(harness.store);
    expect((await store.get('guest', id))?.response.success).toBe(true);
    expect(await ow.activations.result({ name: id })).toMatchObject({ status: 'success', success: true });
    expect(await ow.activations.logs({ name: id })).toEqual({ logs: [] });

    await ow.actions.delete({ name: 'hello' });
    await expect(ow.actions.get({ name: 'hello' })).rejects.toMatchObject({ statusCode: 404 });
  });
});
