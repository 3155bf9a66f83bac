import { Buckets, messageOf, randomId, type Listener } from '@kindling/core';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** `GET /health` (200 when the store and the bus both answer, else 503 naming which did not) and `GET /metrics`. */
export function registerHealthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store, bus } = ctx.deps;

  async function checkStore(): Promise<void> {
    await withTimeout('the store', (async () => (await store.bucket(Buckets.namespaces)).get('health'))());
  }

  /** A round trip through the bus's notifications: proves it delivers, not only that it accepts. */
  async function checkBus(): Promise<void> {
    const subject = `kindling.health.${randomId(8)}`;
    let listener: Listener | undefined;
    try {
      await withTimeout(
        'the bus',
        new Promise<void>((resolve) => {
          listener = bus.listen(subject, () => resolve());
          bus.notify(subject, new Uint8Array([1]));
        }),
      );
    } finally {
      listener?.stop();
    }
  }

  async function outcome(check: () => Promise<void>): Promise<string> {
    try {
      await check();
      return 'ok';
    } catch (error) {
      return messageOf(error);
    }
  }

  app.get('/health', async (_request, reply) => {
    const [storeResult, busResult] = await Promise.all([outcome(checkStore), outcome(checkBus)]);
    const healthy = storeResult === 'ok' && busResult === 'ok';
    return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'unavailable', checks: { store: storeResult, bus: busResult } });
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
}
