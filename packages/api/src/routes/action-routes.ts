import { actionPutSchema, assertEntityName, KindlingError, parseQualifiedName, parseWith } from '@kindling/core';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { callerOf, ownNamespace } from '../http/caller.js';
import { bodyObject } from '../http/json-body.js';
import { booleanQuery, listQuery, page, type Query } from '../http/query.js';
import { newAction, updatedAction } from '../services/action-records.js';
import { getEntity, putEntity } from '../services/put-entity.js';
import { ACTIVATION_ID_HEADER, sendActivation } from '../views/activation-reply.js';
import { actionSummary, actionView } from '../views/entity-views.js';

type EntityRoute = { Params: { ns: string; name: string }; Querystring: Query };

/** `timeout` of a blocking invoke: milliseconds, at most the configured maximum. */
function blockingTimeout(query: Query, max: number): number {
  const value = query.timeout;
  if (value === undefined || value === '') return max;
  const timeout = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(timeout > 0 && timeout <= max)) {
    throw new KindlingError('KND_VALIDATION', `Timeout must be number of milliseconds up to ${max}.`, { field: 'timeout' });
  }
  return timeout;
}

export function registerActionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { entities } = ctx;

  app.get<{ Params: { ns: string }; Querystring: Query }>('/namespaces/:ns/actions', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const list = listQuery(request.query, 'actions');
    const actions = await entities.list('actions', namespace);
    if (list.count) return { actions: actions.length };
    return page(actions, list).map(actionSummary);
  });

  app.get<EntityRoute>('/namespaces/:ns/actions/:name', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'action');
    const action = await getEntity(entities, 'actions', namespace, name);
    return actionView(action, { code: booleanQuery(request.query, 'code', true) });
  });

  app.put<EntityRoute>('/namespaces/:ns/actions/:name', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'action');
    const put = parseWith(actionPutSchema, bodyObject(request.body));
    if (put.exec && 'components' in put.exec) {
      for (const component of put.exec.components) {
        const q = parseQualifiedName(component, namespace);
        if (q.namespace === namespace && !(await entities.get('actions', namespace, q.name))) {
          throw new KindlingError('KND_VALIDATION', `Sequence component does not exist: /${namespace}/${q.name}`, { field: 'exec.components' });
        }
      }
    }
    const action = await putEntity(entities, 'actions', { namespace, name, overwrite: booleanQuery(request.query, 'overwrite', false) }, (existing) =>
      existing ? updatedAction(existing, put) : newAction(namespace, name, put),
    );
    return actionView(action);
  });

  app.delete<EntityRoute>('/namespaces/:ns/actions/:name', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'action');
    const action = await getEntity(entities, 'actions', namespace, name);
    await entities.delete('actions', namespace, name);
    return actionView(action);
  });

  app.post<EntityRoute>('/namespaces/:ns/actions/:name', async (request, reply) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'action');
    const blocking = booleanQuery(request.query, 'blocking', false);
    const resultOnly = booleanQuery(request.query, 'result', false);
    const waitMs = blocking ? blockingTimeout(request.query, ctx.blockingTimeoutMs) : undefined;
    const payload = bodyObject(request.body, 'The invocation payload');
    const action = await getEntity(entities, 'actions', namespace, name);
    const outcome = await ctx.invoker.invoke({ action, payload, subject: callerOf(request).namespace, ...(waitMs !== undefined ? { waitMs } : {}) });
    const mode = blocking ? 'blocking' : 'non_blocking';
    if (!outcome.activation) {
      ctx.metrics.invocations.inc({ mode, outcome: 'accepted' });
      return reply.code(202).header(ACTIVATION_ID_HEADER, outcome.activationId).send({ activationId: outcome.activationId });
    }
    ctx.metrics.invocations.inc({ mode, outcome: 'done' });
    return sendActivation(reply, outcome.activation, resultOnly);
  });
}
