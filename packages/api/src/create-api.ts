import { EntityStore, KeyValueActivationStore, KindlingError, MAX_PAYLOAD_BYTES, randomId } from '@kindling/core';
import { FeedRepository } from '@kindling/host';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiContext } from './api-context.js';
import type { ApiDeps } from './api-deps.js';
import { authInvalid, parseBasicAuth } from './auth/basic-auth.js';
import { NamespaceStore } from './auth/namespace-store.js';
import { ApiMetrics } from './http/api-metrics.js';
import { NOT_FOUND_MESSAGE, sendError, toKindlingError } from './http/error-reply.js';
import { acceptJsonBodies } from './http/json-body.js';
import { registerActionRoutes } from './routes/action-routes.js';
import { registerActivationRoutes } from './routes/activation-routes.js';
import { registerFeedRoutes } from './routes/feed-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerHookRoutes } from './routes/hook-routes.js';
import { registerNamespaceRoutes } from './routes/namespace-routes.js';
import { registerProviderRoutes } from './routes/provider-routes.js';
import { registerRuleRoutes } from './routes/rule-routes.js';
import { registerSystemPackageRoutes } from './routes/system-package-routes.js';
import { registerTriggerRoutes } from './routes/trigger-routes.js';
import { ActionInvoker } from './services/action-invoker.js';
import { FeedService } from './services/feed-service.js';

/** GitHub's largest webhook payload. */
export const DEFAULT_HOOK_BODY_LIMIT = 25 * 1024 * 1024;
export const DEFAULT_BLOCKING_TIMEOUT_MS = 60_000;

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, DELETE, POST, PUT, HEAD',
  'access-control-allow-headers': 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
};

/** A caller's `X-Request-ID` is kept when it is a plain token (it ends up in logs), else a fresh one. */
function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[\w.:-]{1,128}$/.test(header) ? header : randomId();
}

/**
 * Builds the OpenWhisk-compatible REST API (`/api/v1`), the webhook ingress (`/hooks`), `/health`
 * and `/metrics` on fastify. The instance is not listening: the caller calls `listen`.
 */
export async function createApi(deps: ApiDeps): Promise<FastifyInstance> {
  const bodyLimit = deps.bodyLimitBytes ?? MAX_PAYLOAD_BYTES;
  const hookBodyLimit = deps.hookBodyLimitBytes ?? DEFAULT_HOOK_BODY_LIMIT;
  const [entities, activations, namespaces, repo] = await Promise.all([
    EntityStore.open(deps.store),
    deps.activations ?? KeyValueActivationStore.open(deps.store),
    NamespaceStore.open(deps.store),
    FeedRepository.open(deps.store),
  ]);
  const metrics = new ApiMetrics();
  const ctx: ApiContext = {
    deps,
    log: deps.log,
    entities,
    activations,
    namespaces,
    metrics,
    feeds: new FeedService({ registry: deps.registry, entities, repo, log: deps.log, publicUrl: deps.publicUrl, metrics }),
    invoker: new ActionInvoker(deps.bus, activations),
    blockingTimeoutMs: deps.blockingTimeoutMs ?? DEFAULT_BLOCKING_TIMEOUT_MS,
  };

  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit,
    genReqId: (request) => requestIdOf(request.headers['x-request-id']),
    routerOptions: { maxParamLength: 2048, ignoreTrailingSlash: true },
  });

  app.decorateRequest('caller', null);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.headers(CORS_HEADERS);
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.latency.observe(labels, reply.elapsedTime / 1000);
    request.log.info({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });

  app.setErrorHandler((error, request, reply) => {
    const coded = toKindlingError(error, bodyLimit);
    if (coded.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendError(request, reply, coded);
  });

  app.setNotFoundHandler((request, reply) => sendError(request, reply, new KindlingError('KND_NOT_FOUND', NOT_FOUND_MESSAGE)));

  app.options('/*', async (_request, reply) => reply.code(200).send());

  app.get('/', async () => ({ description: 'Kindling: an OpenWhisk-compatible event-driven compute platform', api_paths: ['/api/v1'] }));
  registerHealthRoutes(app, ctx);

  await app.register(
    async (v1) => {
      acceptJsonBodies(v1);
      v1.get('/', async () => ({ description: 'OpenWhisk API', api_version: '1.0.0', api_version_path: 'v1', build: 'kindling' }));
      await v1.register(async (secured) => {
        secured.addHook('onRequest', async (request) => {
          const key = parseBasicAuth(request.headers.authorization);
          const namespace = await namespaces.authenticate(key);
          if (!namespace) throw authInvalid();
          request.caller = { namespace, uuid: key.uuid };
        });
        registerNamespaceRoutes(secured, ctx, bodyLimit);
        registerProviderRoutes(secured, ctx);
        registerSystemPackageRoutes(secured, ctx);
        registerActionRoutes(secured, ctx);
        registerTriggerRoutes(secured, ctx);
        registerRuleRoutes(secured, ctx);
        registerActivationRoutes(secured, ctx);
        registerFeedRoutes(secured, ctx);
      });
    },
    { prefix: '/api/v1' },
  );

  await app.register(async (hooks) => registerHookRoutes(hooks, ctx, hookBodyLimit));

  return app;
}
