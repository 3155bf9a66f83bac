import { KindlingError, silentLogger, z, type EventBus, type KeyValueStore } from '@kindling/core';
import { defineFeedKind, defineProvider, FeedParamError, hook } from '@kindling/sdk';
import { FeedHost, ProviderRegistry } from '@kindling/host';
import { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import type { FastifyInstance } from 'fastify';
import { createApi, type ApiDeps } from '../src/index.js';
import { NamespaceStore } from '../src/auth/namespace-store.js';
import { httpClient, listenOnLoopback, type HttpRequest, type HttpResponse } from './http-client.js';

export const GUEST_KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
export const OTHER_KEY = '5f4a1c2e-0000-4000-8000-000000000002:otherKeyOtherKeyOtherKeyOtherKeyOtherKeyOtherKeyOtherKey0';
export const PUBLIC_URL = 'http://127.0.0.1:3233';

export function basic(key: string): string {
  return `Basic ${Buffer.from(key).toString('base64')}`;
}

/**
 * A small provider defined in the test, so that these tests depend on no real one: `ticker`
 * (with a cross-field check and a secret) and `webhook` (the hook pattern).
 */
export const testProvider = defineProvider({
  name: 'testkit',
  sdkVersion: 1,
  description: 'A provider for the API tests',
  kinds: {
    ticker: defineFeedKind({
      description: 'Fires every everyMs milliseconds (here: never; the tests drive nothing)',
      params: z.strictObject({
        everyMs: z.number().int().positive().describe('milliseconds between fires'),
        startDate: z.string().optional(),
        stopDate: z.string().optional(),
        token: z.string().optional(),
      }),
      secrets: ['token'],
      pattern: 'timer',
      validate(params) {
        if (params.startDate && params.stopDate && Date.parse(params.stopDate) <= Date.parse(params.startDate)) {
          throw new FeedParamError('stopDate', 'must be after startDate');
        }
      },
      start: () => ({ stop() {} }),
      describe: async (feed, ctx) => ({ nextFireInMs: feed.params.everyMs, cursor: (await ctx.cursor.get()) ?? null }),
    }),
    webhook: defineFeedKind({
      description: 'Fires on each POST to its hook URL carrying the right x-test-secret',
      params: z.strictObject({ secret: z.string().min(1) }),
      secrets: ['secret'],
      pattern: 'hook',
      start: hook<{ secret: string }>(async (request, feed, ctx) => {
        if (request.headers['x-test-secret'] !== feed.params.secret) throw new KindlingError('KND_UNAUTHENTICATED', 'bad x-test-secret');
        if (request.headers['x-test-crash']) throw new Error('the handler crashed');
        const receipt = await ctx.fire({ size: request.body.length, text: request.body.toString('utf8'), query: request.query });
        return { status: 202, body: { eventId: receipt.event.id } };
      }),
    }),
  },
});

export interface Harness {
  api: FastifyInstance;
  backend: EmbeddedBackend;
  bus: EventBus;
  store: KeyValueStore;
  host: FeedHost;
  namespaces: NamespaceStore;
  /** `http://127.0.0.1:<port>` of the listening API. */
  baseUrl: string;
  http(request: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** The API listening on a loopback port, on an in-memory embedded backend, with a real provider host for the test provider. */
export async function openHarness(overrides: Partial<ApiDeps> = {}): Promise<Harness> {
  const backend = await openEmbeddedBackend({ log: silentLogger() });
  const registry = new ProviderRegistry([testProvider]);
  const log = silentLogger();
  const host = new FeedHost({ store: backend.store, bus: backend.bus, registry, log, publicUrl: PUBLIC_URL });
  await host.start();
  const namespaces = await NamespaceStore.open(backend.store);
  await namespaces.ensureNamespace('guest', GUEST_KEY);
  await namespaces.ensureNamespace('other', OTHER_KEY);
  const api = await createApi({ store: backend.store, bus: backend.bus, registry, log, hooks: host, publicUrl: PUBLIC_URL, ...overrides });
  const baseUrl = await listenOnLoopback(api);
  return {
    baseUrl,
    http: httpClient(baseUrl),
    api,
    backend,
    bus: backend.bus,
    store: backend.store,
    host,
    namespaces,
    async close() {
      await api.close();
      await host.stop();
      await backend.close();
    },
  };
}
