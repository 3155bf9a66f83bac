import { assertEntityName, KindlingError, parseWith, z } from '@kindling/core';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { ownNamespace } from '../http/caller.js';
import { bodyObject } from '../http/json-body.js';
import { booleanQuery, listQuery, type Query } from '../http/query.js';

type FeedRoute = { Params: { ns: string; trigger: string }; Querystring: Query };

const feedPutSchema = z.strictObject({
  provider: z.string().min(1).optional(),
  kind: z.string().min(1).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

const feedActionSchema = z.strictObject({ action: z.enum(['pause', 'unpause']) });

const feedFilterSchema = z.object({
  status: z.enum(['pending', 'active', 'paused', 'failing', 'disabled']).optional(),
  provider: z.string().min(1).max(256).optional(),
  trigger: z.string().min(1).max(256).optional(),
});

/**
 * Kindling's REST surface for feeds, addressed by the trigger they feed (a trigger has at most
 * one): `GET /feeds` (paged and filtered), and `GET | PUT | DELETE | POST /feeds/{trigger}`.
 */
export function registerFeedRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { feeds, entities } = ctx;

  /** A page of feeds (`limit`, `skip`; `count=true` for the total), filtered by `status`, `provider` and a `trigger` name prefix. */
  app.get<{ Params: { ns: string }; Querystring: Query }>('/namespaces/:ns/feeds', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const page = listQuery(request.query, 'feeds');
    const { status, provider, trigger } = parseWith(feedFilterSchema, { status: request.query.status, provider: request.query.provider, trigger: request.query.trigger });
    const filter = { ...(status ? { status } : {}), ...(provider ? { provider } : {}), ...(trigger ? { triggerPrefix: trigger } : {}) };
    const { feeds: list, total } = await feeds.list(namespace, filter, page.count ? { skip: 0, limit: 0 } : page);
    return page.count ? { feeds: total } : list;
  });

  app.get<FeedRoute>('/namespaces/:ns/feeds/:trigger', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    return feeds.read(namespace, assertEntityName(request.params.trigger, 'trigger'));
  });

  /**
   * Creates the trigger's feed (`{provider, kind, params}`); when it has one, `overwrite=true`
   * merges `params` into it (UPDATE), else 409, as for every other entity.
   */
  app.put<FeedRoute>('/namespaces/:ns/feeds/:trigger', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const trigger = assertEntityName(request.params.trigger, 'trigger');
    const body = parseWith(feedPutSchema, bodyObject(request.body));
    const triggerEntry = await entities.get('triggers', namespace, trigger);
    if (!triggerEntry) throw new KindlingError('KND_NOT_FOUND', `trigger /${namespace}/${trigger} does not exist.`);
    if (triggerEntry.value.feedId) {
      if (!booleanQuery(request.query, 'overwrite', false)) {
        throw new KindlingError('KND_CONFLICT', `trigger /${namespace}/${trigger} already has a feed; use overwrite=true to change its parameters.`);
      }
      return feeds.update(namespace, trigger, body, 'params');
    }
    if (!body.provider) throw new KindlingError('KND_VALIDATION', "'provider': required to create a feed", { field: 'provider' });
    if (!body.kind) throw new KindlingError('KND_VALIDATION', "'kind': required to create a feed", { field: 'kind' });
    return feeds.create(namespace, trigger, { provider: body.provider, kind: body.kind, params: body.params ?? {} }, 'params');
  });

  app.delete<FeedRoute>('/namespaces/:ns/feeds/:trigger', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    return feeds.delete(namespace, assertEntityName(request.params.trigger, 'trigger'));
  });

  /** `{action: 'pause' | 'unpause'}`. */
  app.post<FeedRoute>('/namespaces/:ns/feeds/:trigger', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const trigger = assertEntityName(request.params.trigger, 'trigger');
    const { action } = parseWith(feedActionSchema, bodyObject(request.body));
    return feeds.setPaused(namespace, trigger, action === 'pause');
  });
}
