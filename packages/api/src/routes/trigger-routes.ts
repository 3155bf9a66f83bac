import {
  annotation,
  assertEntityName,
  bumpVersion,
  createCloudEvent,
  encodeJson,
  KindlingError,
  messageOf,
  parseWith,
  Subjects,
  triggerActivationId,
  triggerPutSchema,
  type TriggerPut,
  type TriggerRecord,
} from '@kindling/core';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { ownNamespace } from '../http/caller.js';
import { bodyObject } from '../http/json-body.js';
import { booleanQuery, listQuery, page, type Query } from '../http/query.js';
import { getEntity, putEntity } from '../services/put-entity.js';
import { ACTIVATION_ID_HEADER } from '../views/activation-reply.js';
import { triggerSummary, triggerView } from '../views/entity-views.js';

type EntityRoute = { Params: { ns: string; name: string }; Querystring: Query };

/** OpenWhisk only checks that a `feed` annotation names an entity path. */
function checkFeedAnnotation(put: TriggerPut): void {
  const feed = annotation(put.annotations ?? [], 'feed');
  if (feed !== undefined && (typeof feed !== 'string' || !/^\/?[^/]+(\/[^/]+){1,2}$/.test(feed))) {
    throw new KindlingError('KND_VALIDATION', 'Feed name is not valid', { field: 'annotations' });
  }
}

function buildTrigger(namespace: string, name: string, put: TriggerPut, existing: TriggerRecord | null): TriggerRecord {
  if (!existing) {
    return {
      namespace,
      name,
      version: put.version ?? '0.0.1',
      publish: put.publish ?? false,
      annotations: put.annotations ?? [],
      parameters: put.parameters ?? [],
      limits: {},
      updated: Date.now(),
    };
  }
  // OpenWhisk replaces parameters and annotations wholesale; the link to a live feed stays.
  let annotations = put.annotations ?? existing.annotations;
  const feedAnnotation = annotation(existing.annotations, 'feed');
  if (existing.feedId && feedAnnotation !== undefined) annotations = [...annotations.filter((kv) => kv.key !== 'feed'), { key: 'feed', value: feedAnnotation }];
  return {
    ...existing,
    version: bumpVersion(existing.version),
    publish: put.publish ?? existing.publish,
    annotations,
    parameters: put.parameters ?? existing.parameters,
    updated: Date.now(),
  };
}

export function registerTriggerRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { entities } = ctx;

  app.get<{ Params: { ns: string }; Querystring: Query }>('/namespaces/:ns/triggers', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const list = listQuery(request.query, 'triggers');
    const triggers = await entities.list('triggers', namespace);
    if (list.count) return { triggers: triggers.length };
    return page(triggers, list).map(triggerSummary);
  });

  app.get<EntityRoute>('/namespaces/:ns/triggers/:name', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'trigger');
    const trigger = await getEntity(entities, 'triggers', namespace, name);
    return triggerView(trigger, await entities.list('rules', namespace));
  });

  /** Create or update; with Kindling's `feed: {provider, kind, params}` the feed is created in the same step. */
  app.put<EntityRoute>('/namespaces/:ns/triggers/:name', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'trigger');
    const put = parseWith(triggerPutSchema, bodyObject(request.body));
    checkFeedAnnotation(put);
    const overwrite = booleanQuery(request.query, 'overwrite', false);
    if (!put.feed) {
      const trigger = await putEntity(entities, 'triggers', { namespace, name, overwrite }, (existing) => buildTrigger(namespace, name, put, existing));
      return triggerView(trigger, await entities.list('rules', namespace));
    }
    const existing = await entities.get('triggers', namespace, name);
    if (existing && !overwrite) throw new KindlingError('KND_CONFLICT', 'resource already exists');
    if (existing?.value.feedId) {
      throw new KindlingError('KND_CONFLICT', `trigger /${namespace}/${name} already has a feed; change it through /feeds/${name}, or delete it first.`, { field: 'feed' });
    }
    // Validated before anything is stored; the trigger is written first, pointing at the feed.
    const feed = await ctx.feeds.prepare(namespace, name, put.feed, 'feed.params');
    const trigger = await putEntity(entities, 'triggers', { namespace, name, overwrite }, (current) => {
      if (current?.feedId) throw new KindlingError('KND_CONFLICT', 'Concurrent modification to resource detected.');
      return ctx.feeds.attachTo(buildTrigger(namespace, name, put, current), feed);
    });
    try {
      await ctx.feeds.store(feed);
    } catch (error) {
      ctx.log.error({ feedId: feed.id, err: messageOf(error) }, 'storing the feed of a new trigger failed');
      const { feedId: _feedId, ...unlinked } = trigger;
      await entities.put('triggers', { ...unlinked, annotations: unlinked.annotations.filter((kv) => kv.key !== 'feed') }).catch(() => undefined);
      throw error;
    }
    ctx.metrics.feedOperations.inc({ event: 'CREATE', outcome: 'ok' });
    return triggerView(trigger, await entities.list('rules', namespace));
  });

  /** Deleting a trigger deletes its feed the same way `DELETE /feeds/{trigger}` does. */
  app.delete<EntityRoute>('/namespaces/:ns/triggers/:name', async (request) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'trigger');
    const trigger = await getEntity(entities, 'triggers', namespace, name);
    if (trigger.feedId) await ctx.feeds.markDeleted(trigger.feedId);
    await entities.delete('triggers', namespace, name);
    return triggerView(trigger, await entities.list('rules', namespace));
  });

  /** Fire: 202 with the trigger activation id when a rule is active, else 204 (OpenWhisk's answer). */
  app.post<EntityRoute>('/namespaces/:ns/triggers/:name', async (request, reply) => {
    const namespace = ownNamespace(request, request.params.ns);
    const name = assertEntityName(request.params.name, 'trigger');
    const payload = bodyObject(request.body, 'The trigger payload');
    await getEntity(entities, 'triggers', namespace, name);
    const rules = await entities.list('rules', namespace);
    if (!rules.some((rule) => rule.status === 'active' && rule.trigger.path === namespace && rule.trigger.name === name)) {
      ctx.metrics.fires.inc({ outcome: 'no_active_rule' });
      return reply.code(204).send();
    }
    const event = createCloudEvent({ namespace, trigger: name, data: payload });
    await ctx.deps.bus.publish(Subjects.event(namespace, name), encodeJson(event), { msgId: event.id });
    ctx.metrics.fires.inc({ outcome: 'published' });
    const activationId = triggerActivationId(namespace, name, event.id, Date.parse(event.time));
    return reply.code(202).header(ACTIVATION_ID_HEADER, activationId).send({ activationId });
  });
}
