import {
  activationResponse,
  assertEntityName,
  defaultLimits,
  KindlingError,
  parseQualifiedName,
  parseWith,
  randomActivationId,
  z,
  type ActivationRecord,
} from '@kindling/core';
import type { FeedKindDefinition, ProviderDefinition } from '@kindling/sdk';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { parseAuthKey } from '../auth/namespace-store.js';
import { callerOf, forbidden, ownNamespace, SYSTEM_NAMESPACE } from '../http/caller.js';
import { bodyObject } from '../http/json-body.js';
import { booleanQuery, type Query } from '../http/query.js';
import { FEED_LIFECYCLE_EVENTS, feedActionName, type FeedLifecycleEvent, type FeedView } from '../services/feed-service.js';
import { ACTIVATION_ID_HEADER, sendActivation } from '../views/activation-reply.js';

type PackageActionRoute = { Params: { ns: string; pkg: string; name: string }; Querystring: Query };

const NOT_FOUND = 'The requested resource does not exist.';

/** OpenWhisk's `parameters` annotation (`[{name, required, description}]`), from the kind's zod schema. */
function parameterList(kind: FeedKindDefinition<Record<string, unknown>>): Array<{ name: string; required: boolean; description?: string }> {
  try {
    const schema = z.toJSONSchema(kind.params, { unrepresentable: 'any', io: 'input' }) as {
      properties?: Record<string, { description?: string }>;
      required?: string[];
    };
    return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
      name,
      required: schema.required?.includes(name) ?? false,
      ...(property.description ? { description: property.description } : {}),
    }));
  } catch {
    return [];
  }
}

function feedActionView(provider: ProviderDefinition, kindName: string, kind: FeedKindDefinition<Record<string, unknown>>) {
  return {
    namespace: `${SYSTEM_NAMESPACE}/${provider.name}`,
    name: kindName,
    version: '0.0.1',
    publish: true,
    exec: { kind: 'kindling:feed', binary: false },
    annotations: [
      { key: 'feed', value: true },
      { key: 'description', value: kind.description },
      { key: 'parameters', value: parameterList(kind) },
      ...(kind.pattern ? [{ key: 'kindling-pattern', value: kind.pattern }] : []),
    ],
    parameters: [],
    limits: defaultLimits(),
    updated: 0,
  };
}

function packageSummary(provider: ProviderDefinition) {
  return {
    namespace: SYSTEM_NAMESPACE,
    name: provider.name,
    version: '0.0.1',
    publish: true,
    binding: false,
    annotations: provider.description ? [{ key: 'description', value: provider.description }] : [],
    updated: 0,
  };
}

const feedActionBody = z.looseObject({
  lifecycleEvent: z.enum(FEED_LIFECYCLE_EVENTS),
  triggerName: z.string().min(1, 'must name the trigger (/namespace/trigger)'),
  authKey: z.string().optional(),
});

/**
 * `/whisk.system/<provider>/<kind>`: the feed actions through which OpenWhisk clients drive the
 * feed lifecycle (`ow.feeds.create({name: '/whisk.system/alarms/alarm', ...})`), and the
 * providers as read-only public packages of `whisk.system`.
 */
export function registerSystemPackageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { registry } = ctx.deps;

  function providerOr404(name: string): ProviderDefinition {
    const provider = registry.list().find((p) => p.name === name);
    if (!provider) throw new KindlingError('KND_NOT_FOUND', NOT_FOUND);
    return provider;
  }

  /** A package action: only whisk.system's feed actions exist (Kindling has no user packages). */
  function feedActionOf(request: FastifyRequest<PackageActionRoute>) {
    const { ns, pkg, name } = request.params;
    if (ns !== SYSTEM_NAMESPACE) {
      ownNamespace(request, ns);
      throw new KindlingError('KND_NOT_FOUND', NOT_FOUND);
    }
    callerOf(request);
    const provider = providerOr404(pkg);
    const kind = provider.kinds[name];
    if (!kind) throw new KindlingError('KND_NOT_FOUND', NOT_FOUND);
    return { provider, kindName: name, kind: kind as FeedKindDefinition<Record<string, unknown>> };
  }

  app.get<{ Params: { ns: string } }>('/namespaces/:ns/packages', async (request) => {
    if (request.params.ns === SYSTEM_NAMESPACE) return registry.list().map(packageSummary);
    ownNamespace(request, request.params.ns);
    return [];
  });

  app.get<{ Params: { ns: string; name: string } }>('/namespaces/:ns/packages/:name', async (request) => {
    if (request.params.ns !== SYSTEM_NAMESPACE) {
      ownNamespace(request, request.params.ns);
      throw new KindlingError('KND_NOT_FOUND', NOT_FOUND);
    }
    const provider = providerOr404(request.params.name);
    const feeds = Object.entries(provider.kinds).map(([kindName, kind]) => {
      const view = feedActionView(provider, kindName, kind);
      return { name: view.name, version: view.version, annotations: view.annotations };
    });
    return { ...packageSummary(provider), parameters: [], actions: [], feeds };
  });

  app.get<PackageActionRoute>('/namespaces/:ns/actions/:pkg/:name', async (request) => {
    const { provider, kindName, kind } = feedActionOf(request);
    return feedActionView(provider, kindName, kind);
  });

  /**
   * Invoking a feed action runs one lifecycle event: body `{lifecycleEvent, triggerName, authKey,
   * ...feed params}`. `authKey` is the trigger owner's key; `_` in `triggerName` is the owner's
   * namespace. Answers like a blocking invoke, with an activation whose result is the feed.
   */
  app.post<PackageActionRoute>('/namespaces/:ns/actions/:pkg/:name', async (request, reply) => {
    const start = Date.now();
    const { provider, kindName } = feedActionOf(request);
    const caller = callerOf(request);
    const { lifecycleEvent, triggerName, authKey, ...params } = parseWith(feedActionBody, bodyObject(request.body)) as z.infer<typeof feedActionBody>;
    let owner = caller.namespace;
    if (authKey !== undefined) {
      const namespace = await ctx.namespaces.authenticate(parseAuthKey(authKey, 'authKey'));
      if (!namespace) throw new KindlingError('KND_FORBIDDEN', "The supplied 'authKey' is not a valid key of any namespace.", { field: 'authKey' });
      owner = namespace;
    }
    const target = parseQualifiedName(triggerName, owner);
    if (target.namespace !== owner) throw forbidden();
    const trigger = assertEntityName(target.name, 'triggerName');
    const feed = await runLifecycleEvent(ctx, lifecycleEvent, owner, trigger, { provider: provider.name, kind: kindName, params });
    const end = Date.now();
    const activation: ActivationRecord = {
      namespace: caller.namespace,
      name: kindName,
      subject: caller.namespace,
      activationId: randomActivationId(start),
      start,
      end,
      duration: end - start,
      response: activationResponse(0, feed),
      logs: [],
      annotations: [
        { key: 'path', value: feedActionName(provider.name, kindName).slice(1) },
        { key: 'kind', value: 'kindling:feed' },
      ],
      version: '0.0.1',
      publish: false,
    };
    await ctx.activations.put(activation);
    if (!booleanQuery(request.query, 'blocking', false)) {
      return reply.code(202).header(ACTIVATION_ID_HEADER, activation.activationId).send({ activationId: activation.activationId });
    }
    return sendActivation(reply, activation, booleanQuery(request.query, 'result', false));
  });
}

function runLifecycleEvent(
  ctx: ApiContext,
  event: FeedLifecycleEvent,
  namespace: string,
  trigger: string,
  spec: { provider: string; kind: string; params: Record<string, unknown> },
): Promise<FeedView> {
  switch (event) {
    case 'CREATE':
      return ctx.feeds.create(namespace, trigger, spec, '');
    case 'READ':
      return ctx.feeds.read(namespace, trigger);
    case 'UPDATE':
      return ctx.feeds.update(namespace, trigger, { provider: spec.provider, kind: spec.kind, params: spec.params }, '');
    case 'DELETE':
      return ctx.feeds.delete(namespace, trigger);
    case 'PAUSE':
      return ctx.feeds.setPaused(namespace, trigger, true);
    case 'UNPAUSE':
      return ctx.feeds.setPaused(namespace, trigger, false);
  }
}
