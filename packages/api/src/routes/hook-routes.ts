import { isKindlingError, KindlingError, messageOf } from '@kindling/core';
import type { HookRequest } from '@kindling/sdk';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { sendError } from '../http/error-reply.js';

type HookRoute = { Params: { provider: string; feedId: string }; Querystring: Record<string, string | undefined> };

function headersOf(raw: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(raw)) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

/**
 * `POST /hooks/<provider>/<feed id>`: webhook ingress for hook feeds. No basic auth (the provider
 * verifies the sender, e.g. by signature, over the raw body it gets unparsed). A provider's coded
 * error answers with its status; anything else answers 503 so that the sender retries.
 */
export async function registerHookRoutes(app: FastifyInstance, ctx: ApiContext, bodyLimit: number): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));

  app.post<HookRoute>('/hooks/:provider/:feedId', { bodyLimit }, async (request, reply) => {
    const { provider, feedId } = request.params;
    const hookRequest: HookRequest = {
      headers: headersOf(request.headers),
      body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
      query: { ...request.query },
    };
    try {
      const response = await ctx.deps.hooks.dispatchHook(provider, feedId, hookRequest);
      ctx.metrics.hookRequests.inc({ provider, status: String(response.status) });
      if (response.headers) reply.headers(response.headers);
      reply.code(response.status);
      if (response.body === undefined) return reply.send();
      if (Buffer.isBuffer(response.body) || typeof response.body === 'string') return reply.send(response.body);
      return reply.type('application/json').send(JSON.stringify(response.body));
    } catch (error) {
      if (isKindlingError(error)) {
        ctx.metrics.hookRequests.inc({ provider, status: String(error.status) });
        return sendError(request, reply, error, { challenge: false });
      }
      request.log.error({ provider, feedId, err: messageOf(error) }, 'a hook handler failed; answering 503 so that the sender retries');
      ctx.metrics.hookRequests.inc({ provider, status: '503' });
      return sendError(request, reply, new KindlingError('KND_BUS_UNAVAILABLE', 'The event could not be accepted now; retry later.'));
    }
  });
}
