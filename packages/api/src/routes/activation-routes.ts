import { isActivationId, KindlingError, type ActivationQuery, type ActivationRecord } from '@kindling/core';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { ownNamespace } from '../http/caller.js';
import { booleanQuery, integerQuery, listQuery, type Query } from '../http/query.js';
import { activationBrief, activationResponseView, activationView } from '../views/entity-views.js';

type ActivationRoute = { Params: { ns: string; id: string } };

export function registerActivationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { activations } = ctx;

  async function activation(namespace: string, id: string): Promise<ActivationRecord> {
    if (!isActivationId(id)) {
      throw new KindlingError('KND_VALIDATION', `'activationId' must be 32 lowercase hexadecimal characters, not '${id}'.`, { field: 'activationId' });
    }
    const record = await activations.get(namespace, id);
    if (!record) throw new KindlingError('KND_NOT_FOUND', 'The requested resource does not exist.');
    return record;
  }

  /** Newest first; `name`, `skip`, `limit`, `since`/`upto` (epoch ms), `docs` for whole records, `count`. */
  app.get<{ Params: { ns: string }; Querystring: Query }>('/namespaces/:ns/activations', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const list = listQuery(request.query, 'activations');
    const docs = booleanQuery(request.query, 'docs', false);
    if (list.count && docs) throw new KindlingError('KND_VALIDATION', "'count' and 'docs' cannot be asked together.", { field: 'count' });
    const query: ActivationQuery = { skip: list.skip, limit: list.limit };
    const name = request.query.name;
    if (name) query.name = name.includes('/') ? name.slice(name.lastIndexOf('/') + 1) : name;
    const since = integerQuery(request.query, 'since');
    const upto = integerQuery(request.query, 'upto');
    if (since !== undefined) query.since = since;
    if (upto !== undefined) query.upto = upto;
    if (list.count) {
      const all = await activations.list(namespace, { ...query, skip: 0, limit: Number.MAX_SAFE_INTEGER });
      return { activations: all.length };
    }
    const records = await activations.list(namespace, query);
    return records.map(docs ? activationView : activationBrief);
  });

  app.get<ActivationRoute>('/namespaces/:ns/activations/:id', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    return activationView(await activation(namespace, request.params.id));
  });

  app.get<ActivationRoute>('/namespaces/:ns/activations/:id/logs', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    return { logs: (await activation(namespace, request.params.id)).logs };
  });

  app.get<ActivationRoute>('/namespaces/:ns/activations/:id/result', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    return activationResponseView(await activation(namespace, request.params.id));
  });
}
