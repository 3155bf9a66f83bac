import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  activationResponse,
  KeyValueActivationStore,
  decodeJson,
  encodeJson,
  randomActivationId,
  Subjects,
  type ActivationRecord,
  type ActivationStatusCode,
  type Consumption,
  type InvocationMessage,
} from '@kindling/core';
import { basic, GUEST_KEY, openHarness, type Harness } from '../test-support/api-harness.js';
import type { HttpRequest, HttpResponse } from '../test-support/http-client.js';

const CODE = 'function main(p) { return p }';

function record(namespace: string, name: string, activationId: string, statusCode: ActivationStatusCode, result: unknown): ActivationRecord {
  const start = Date.now();
  return {
    namespace,
    name,
    subject: namespace,
    activationId,
    start,
    end: start + 3,
    duration: 3,
    response: activationResponse(statusCode, result),
    logs: [`${new Date(start).toISOString()} stdout: ran ${name}`],
    annotations: [{ key: 'path', value: `${namespace}/${name}` }],
    version: '0.0.1',
    publish: false,
  };
}

describe('invoke and activations', () => {
  let harness: Harness;
  let http: (request: HttpRequest) => Promise<HttpResponse>;
  let activations: KeyValueActivationStore;
  let invoker: Consumption | undefined;

  const call = (method: string, url: string, payload?: unknown) =>
    http({ method, url, headers: { authorization: basic(GUEST_KEY) }, ...(payload === undefined ? {} : { payload }) });

  /**
   * Stands in for the runner on the real bus: takes invocations, stores their activation, and
   * (unless told not to) sends the done notification, carrying the record or only the id.
   */
  async function startInvoker(behaviour: { notify: 'record' | 'id' | 'none'; outcome: (m: InvocationMessage) => [ActivationStatusCode, unknown] }) {
    invoker = await harness.bus.consume({ durable: 'api-test-invoker', filter: Subjects.allInvocations }, async (message) => {
      const invocation = decodeJson<InvocationMessage>(message.data);
      const [statusCode, result] = behaviour.outcome(invocation);
      const activation = { ...record(invocation.namespace, invocation.action, invocation.activationId, statusCode, result), subject: invocation.subject };
      await activations.put(activation);
      message.ack();
      const done = Subjects.activationDone(invocation.namespace, invocation.activationId);
      if (behaviour.notify === 'record') harness.bus.notify(done, encodeJson(activation));
      if (behaviour.notify === 'id') harness.bus.notify(done, encodeJson({ activationId: invocation.activationId }));
    });
  }

  beforeEach(async () => {
    harness = await openHarness({ blockingTimeoutMs: 1000 });
    http = harness.http;
    activations = await KeyValueActivationStore.open(harness.store);
    await call('PUT', '/api/v1/namespaces/_/actions/echo', { exec: { kind: 'nodejs:20', code: CODE }, parameters: [{ key: 'greeting', value: 'hi' }] });
  });

  afterEach(async () => {
    await invoker?.stop();
    invoker = undefined;
    await harness.close();
  });

  it('answers a non-blocking invoke 202 and publishes the invocation', async () => {
    const seen: InvocationMessage[] = [];
    invoker = await harness.bus.consume({ durable: 'api-test-seen', filter: Subjects.invocation('guest', 'echo') }, async (message) => {
      seen.push(decodeJson<InvocationMessage>(message.data));
      message.ack();
    });
    const response = await call('POST', '/api/v1/namespaces/_/actions/echo', { name: 'Ann' });
    expect(response.statusCode).toBe(202);
    const { activationId } = response.json();
    expect(activationId).toMatch(/^[0-9a-f]{32}$/);
    expect(response.headers['x-openwhisk-activation-id']).toBe(activationId);
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual([expect.objectContaining({ activationId, namespace: 'guest', action: 'echo', params: { name: 'Ann' }, subject: 'guest' })]);
  });

  it('answers a blocking invoke that does not finish in time with 202 and its activation id', async () => {
    const response = await call('POST', '/api/v1/namespaces/_/actions/echo?blocking=true&timeout=150', {});
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ activationId: response.headers['x-openwhisk-activation-id'] });
    const tooLong = await call('POST', '/api/v1/namespaces/_/actions/echo?blocking=true&timeout=5000', {});
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error).toBe('Timeout must be number of milliseconds up to 1000.');
    expect((await call('POST', '/api/v1/namespaces/_/actions/nope?blocking=true', {})).statusCode).toBe(404);
    expect((await call('POST', '/api/v1/namespaces/_/actions/echo', [1, 2])).statusCode).toBe(400);
  });

  it('answers a blocking invoke with the activation: 200 on success, 502 on an application error, result=true', async () => {
    await startInvoker({ notify: 'record', outcome: (m) => (m.params.fail ? [1, { error: 'it failed' }] : [0, { echoed: m.params }]) });
    const ok = await call('POST', '/api/v1/namespaces/_/actions/echo?blocking=true', { name: 'Ann' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      namespace: 'guest',
      name: 'echo',
      activationId: ok.headers['x-openwhisk-activation-id'],
      response: { status: 'success', success: true, result: { echoed: { name: 'Ann' } } },
    });
    expect(ok.json().response.statusCode).toBeUndefined();

    const failed = await call('POST', '/api/v1/namespaces/_/actions/echo?blocking=true', { fail: true });
    expect(failed.statusCode).toBe(502);
    expect(failed.json().response).toMatchObject({ status: 'application error', success: false, result: { error: 'it failed' } });

    const resultOnly = await call('POST', '/api/v1/namespaces/_/actions/echo?blocking=true&result=true', { name: 'Bo' });
    expect(resultOnly.statusCode).toBe(200);
    expect(resultOnly.json()).toEqual({ echoed: { name: 'Bo' } });
  });

  it('reads the stored activation when the notification carries only the id, or is lost', async () => {
    await startInvoker({ notify: 'id', outcome: () => [2, { error: 'The action exceeded its time limits of 100 milliseconds.' }] });
    const developerError = await call('POST', '/api/v1/namespaces/_/actions/echo?blocking=true', {});
    expect(developerError.statusCode).toBe(502);
    expect(developerError.json().response.status).toBe('action developer error');
    await invoker!.stop();

    await startInvoker({ notify: 'none', outcome: () => [3, { error: 'no runtime' }] });
    const internal = await call('POST', '/api/v1/namespaces/_/actions/echo?blocking=true&timeout=300', {});
    expect(internal.statusCode).toBe(500);
    expect(internal.json().response.status).toBe('whisk internal error');
  });

  it('lists and reads activations: name, status, skip/limit, since/upto, docs, count, logs, result', async () => {
    const now = Date.now();
    const ids = [0, 1, 2].map((i) => randomActivationId(now - 3000 + i * 1000));
    await activations.put(record('guest', 'a', ids[0]!, 0, { n: 0 }));
    await activations.put(record('guest', 'b', ids[1]!, 1, { error: 'x' }));
    await activations.put(record('guest', 'a', ids[2]!, 0, { n: 2 }));
    await activations.put(record('other', 'a', randomActivationId(now), 0, {}));

    const all = (await call('GET', '/api/v1/namespaces/_/activations')).json();
    expect(all.map((a: { activationId: string }) => a.activationId)).toEqual([ids[2], ids[1], ids[0]]);
    expect(all[1]).toEqual({
      namespace: 'guest',
      name: 'b',
      version: '0.0.1',
      publish: false,
      annotations: [{ key: 'path', value: 'guest/b' }],
      activationId: ids[1],
      start: expect.any(Number),
      end: expect.any(Number),
      duration: 3,
      statusCode: 1,
    });
    expect((await call('GET', '/api/v1/namespaces/_/activations?name=a')).json().map((a: { activationId: string }) => a.activationId)).toEqual([ids[2], ids[0]]);
    expect((await call('GET', '/api/v1/namespaces/_/activations?skip=1&limit=1')).json().map((a: { activationId: string }) => a.activationId)).toEqual([ids[1]]);
    expect((await call('GET', `/api/v1/namespaces/_/activations?since=${now - 1500}`)).json()).toHaveLength(1);
    expect((await call('GET', `/api/v1/namespaces/_/activations?upto=${now - 1500}`)).json()).toHaveLength(2);
    expect((await call('GET', '/api/v1/namespaces/_/activations?count=true')).json()).toEqual({ activations: 3 });
    expect((await call('GET', '/api/v1/namespaces/_/activations?count=true&name=a')).json()).toEqual({ activations: 2 });
    expect((await call('GET', '/api/v1/namespaces/_/activations?status=application-error')).json().map((a: { activationId: string }) => a.activationId)).toEqual([ids[1]]);
    expect((await call('GET', '/api/v1/namespaces/_/activations?status=success&count=true')).json()).toEqual({ activations: 2 });
    const badStatus = await call('GET', '/api/v1/namespaces/_/activations?status=failed');
    expect({ status: badStatus.statusCode, error: badStatus.json().error }).toEqual({ status: 400, error: expect.stringContaining("'status' must be one of success, application-error") });
    expect((await call('GET', '/api/v1/namespaces/_/activations?count=true&docs=true')).statusCode).toBe(400);
    expect((await call('GET', '/api/v1/namespaces/_/activations?limit=201')).json().error).toBe("The value '201' is not in the range of 0 to 200 for activations.");
    const docs = (await call('GET', '/api/v1/namespaces/_/activations?docs=true&limit=1')).json();
    expect(docs[0]).toMatchObject({ activationId: ids[2], response: { status: 'success', result: { n: 2 } }, logs: [expect.stringContaining('stdout: ran a')] });

    expect((await call('GET', `/api/v1/namespaces/_/activations/${ids[1]}`)).json()).toMatchObject({ name: 'b', response: { status: 'application error', success: false } });
    expect((await call('GET', `/api/v1/namespaces/_/activations/${ids[1]}/logs`)).json()).toEqual({ logs: [expect.stringContaining('stdout: ran b')] });
    expect((await call('GET', `/api/v1/namespaces/_/activations/${ids[0]}/result`)).json()).toEqual({ status: 'success', success: true, result: { n: 0 }, size: 7 });
    expect((await call('GET', `/api/v1/namespaces/_/activations/${'0'.repeat(32)}`)).statusCode).toBe(404);
    expect((await call('GET', '/api/v1/namespaces/_/activations/not-an-id')).statusCode).toBe(400);
  });
});
