import { ActionLimitBounds } from '@kindling/core';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { callerOf, ownNamespace } from '../http/caller.js';

/** `GET /namespaces` (the caller's own) and `GET /namespaces/{ns}/limits`. */
export function registerNamespaceRoutes(app: FastifyInstance, ctx: ApiContext, bodyLimit: number): void {
  app.get('/namespaces', async (request) => [callerOf(request).namespace]);

  // Only limits Kindling enforces are listed; it has no per-namespace rate limits.
  app.get<{ Params: { ns: string } }>('/namespaces/:ns/limits', async (request) => {
    ownNamespace(request, request.params.ns);
    return {
      minActionMemory: ActionLimitBounds.memory.min,
      maxActionMemory: ActionLimitBounds.memory.max,
      minActionTimeout: ActionLimitBounds.timeout.min,
      maxActionTimeout: ActionLimitBounds.timeout.max,
      minActionLogs: ActionLimitBounds.logs.min,
      maxActionLogs: ActionLimitBounds.logs.max,
      minActionConcurrency: ActionLimitBounds.concurrency.min,
      maxActionConcurrency: ActionLimitBounds.concurrency.max,
      maxParameterSize: bodyLimit,
      maxBlockingWait: ctx.blockingTimeoutMs,
      storeActivations: true,
    };
  });
}
