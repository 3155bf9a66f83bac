import {
  assertEntityName,
  bumpVersion,
  isKindlingError,
  KindlingError,
  messageOf,
  parseQualifiedName,
  parseWith,
  rulePutSchema,
  ruleStatusChangeSchema,
  type EntityPath,
  type RulePut,
  type RuleRecord,
} from '@kindling/core';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { forbidden, ownNamespace } from '../http/caller.js';
import { bodyObject } from '../http/json-body.js';
import { booleanQuery, listQuery, page, type Query } from '../http/query.js';
import { getEntity, putEntity } from '../services/put-entity.js';
import { ruleSummary, ruleView } from '../views/entity-views.js';

type EntityRoute = { Params: { ns: string; name: string }; Querystring: Query };

/** `/_/name`, `/ns/name`, `name` or `{path, name}`, with `_` resolved; only the caller's namespace. */
function resolveReference(value: NonNullable<RulePut['trigger']>, namespace: string, field: 'trigger' | 'action'): EntityPath {
  const q = typeof value === 'string' ? parseQualifiedName(value, namespace) : { namespace: value.path === '_' ? namespace : value.path, name: value.name };
  if (q.namespace !== namespace) throw forbidden();
  assertEntityName(q.name, field);
  return { path: q.namespace, name: q.name };
}

export function registerRuleRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { entities } = ctx;

  function checkFilter(filter: Record<string, unknown>): void {
    try {
      ctx.deps.validateRuleFilter?.(filter);
    } catch (error) {
      if (isKindlingError(error)) throw error;
      throw new KindlingError('KND_VALIDATION', `'filter': ${messageOf(error)}`, { field: 'filter', cause: error });
    }
  }

  async function buildRule(namespace: string, name: string, put: RulePut, existing: RuleRecord | null): Promise<RuleRecord> {
    if (!existing && (!put.trigger || !put.action)) {
      throw new KindlingError('KND_VALIDATION', 'rule requires a valid trigger and a valid action', { field: put.trigger ? 'action' : 'trigger' });
    }
    const trigger = put.trigger ? resolveReference(put.trigger, namespace, 'trigger') : existing!.trigger;
    const action = put.action ? resolveReference(put.action, namespace, 'action') : existing!.action;
    if (!(await entities.get('triggers', trigger.path, trigger.name))) {
      throw new KindlingError('KND_VALIDATION', `trigger /${trigger.path}/${trigger.name} does not exist`, { field: 'trigger' });
    }
    if (!(await entities.get('actions', action.path, action.name))) {
      throw new KindlingError('KND_VALIDATION', `action /${action.path}/${action.name} does not exist`, { field: 'action' });
    }
    if (put.filter !== undefined) checkFilter(put.filter);
    const status = put.status === 'active' || put.status === 'inactive' ? put.status : (existing?.status ?? 'active');
    const rule: RuleRecord = {
      namespace,
      name,
      version: existing ? bumpVersion(existing.version) : (put.version ?? '0.0.1'),
      publish: put.publish ?? existing?.publish ?? false,
      annotations: put.annotations ?? existing?.annotations ?? [],
      updated: Date.now(),
      status,
      trigger,
      action,
    };
    const filter = put.filter ?? existing?.filter;
    if (filter !== undefined) rule.filter = filter;
    // Absent keeps the rule's batching; `null` turns it off.
    const batch = put.batch === undefined ? existing?.batch : (put.batch ?? undefined);
    if (batch !== undefined) rule.batch = batch;
    return rule;
  }

  app.get<{ Params: { ns: string }; Querystring: Query }>('/namespaces/:ns/rules', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const list = listQuery(request.query, 'rules');
    const rules = await entities.list('rules', namespace);
    if (list.count) return { rules: rules.length };
    return page(rules, list).map(ruleSummary);
  });

  app.get<EntityRoute>('/namespaces/:ns/rules/:name', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'rule');
    return ruleView(await getEntity(entities, 'rules', namespace, name));
  });

  app.put<EntityRoute>('/namespaces/:ns/rules/:name', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'rule');
    const put = parseWith(rulePutSchema, bodyObject(request.body));
    const overwrite = booleanQuery(request.query, 'overwrite', false);
    const rule = await putEntity(entities, 'rules', { namespace, name, overwrite }, (existing) => buildRule(namespace, name, put, existing));
    return ruleView(rule);
  });

  app.delete<EntityRoute>('/namespaces/:ns/rules/:name', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'rule');
    const rule = await getEntity(entities, 'rules', namespace, name);
    await entities.delete('rules', namespace, name);
    return ruleView({ ...rule, status: 'inactive' });
  });

  /** Enable or disable: `{status: 'active' | 'inactive'}`; 200 with an empty body, also when nothing changes. */
  app.post<EntityRoute>('/namespaces/:ns/rules/:name', async (request, reply) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'rule');
    const { status } = parseWith(ruleStatusChangeSchema, bodyObject(request.body));
    const entry = await entities.get('rules', namespace, name);
    if (!entry) throw new KindlingError('KND_NOT_FOUND', 'The requested resource does not exist.');
    const rule = entry.value;
    if (status === 'active' && !(await entities.get('triggers', rule.trigger.path, rule.trigger.name))) {
      throw new KindlingError('KND_NOT_FOUND', 'Only rules with existing triggers can be activated');
    }
    if (rule.status !== status) {
      try {
        await entities.put('rules', { ...rule, status, updated: Date.now() }, { previousRevision: entry.revision });
      } catch (error) {
        if ((error as { code?: string }).code !== 'KND_CONFLICT') throw error;
        throw new KindlingError('KND_CONFLICT', 'Concurrent modification to resource detected.', { cause: error });
      }
    }
    return reply.code(200).send();
  });
}
