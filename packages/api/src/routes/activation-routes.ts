import { isActivationId, KindlingError, type ActivationQuery, type ActivationRecord, type ActivationStatusCode } from '@kindling/core';
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

  /**
   * Newest first; `name`, `status`, `skip`, `limit`, `since`/`upto` (epoch ms), `docs` for
   * whole records, `count` for the number of records the filters select.
   */
  app.get<{ Params: { ns: string }; Querystring: Query }>('/namespaces/:ns/activations', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const list = listQuery(request.query, 'activations');
    const docs = booleanQuery(request.query, 'docs', false);
    if (list.count && docs) throw new KindlingError('KND_VALIDATION', "'count' and 'docs' cannot be asked together.", { field: 'count' });
    const query: ActivationQuery = { skip: list.skip, limit: list.limit };
    const name = request.query.name;
    if (name) query.name = name.includes('/') ? name.slice(name.lastIndexOf('/') + 1) : name;
    const status = statusQuery(request.query);
    if (status !== undefined) query.status = status;
    const since = integerQuery(request.query, 'since');
    const upto = integerQuery(request.query, 'upto');
    if (since !== undefined) query.since = since;
    if (upto !== undefined) query.upto = upto;
    if (list.count) return { activations: await activations.count(namespace, query) };
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

/** `status=success|application-error|developer-error|internal-error`: OpenWhisk's four outcomes. */
const STATUS_VALUES: Record<string, ActivationStatusCode> = { success: 0, 'application-error': 1, 'developer-error': 2, 'internal-error': 3 };

function statusQuery(query: Query): ActivationStatusCode | undefined {
  const value = query.status;
  if (value === undefined || value === '') return undefined;
  const code = STATUS_VALUES[value];
  if (code === undefined) {
    throw new KindlingError('KND_VALIDATION', `'status' must be one of ${Object.keys(STATUS_VALUES).join(', ')}, not '${value}'.`, { field: 'status' });
  }
  return code;
}
