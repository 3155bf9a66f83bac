import {
  createLogger,
  decodeJson,
  FeedHost,
  FeedRepository,
  randomId,
  silentLogger,
  Subjects,
  type CloudEvent,
  type Consumption,
  type EventBus,
  type FeedRecord,
  type FeedStatusRecord,
  type KeyValueStore,
  type ProviderRegistry,
} from '@kindling/core';
import { Writable } from 'node:stream';
import type { MongoChange } from '../change-event.js';

/** Helpers shared by the test-double suite and the real-server suite. */
export async function until<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function feedRecord(registry: ProviderRegistry, params: Record<string, unknown>, trigger = 'changes'): Promise<FeedRecord> {
  const validated = await registry.validateParams('mongodb', 'changes', params, { log: silentLogger(), signal: new AbortController().signal });
  return {
    id: randomId(8),
    namespace: 'guest',
    trigger,
    provider: 'mongodb',
    kind: 'changes',
    params: validated,
    desired: 'active',
    generation: 1,
    createdAt: Date.now(),
    updatedAt: Date.now(),
  };
}

export async function startHost(backend: { bus: EventBus; store: KeyValueStore }, registry: ProviderRegistry, hostId: string, logLines: string[]): Promise<FeedHost> {
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(String(chunk));
      callback();
    },
  });
  const host = new FeedHost({
    store: backend.store,
    bus: backend.bus,
    registry,
    log: createLogger({ level: 'debug', destination }),
    publicUrl: 'http://127.0.0.1:3233',
    hostId,
    leaseTtlMs: 1000,
    maxFailures: 3,
    backoff: { initialMs: 50, maxMs: 200, jitter: 0 },
  });
  await host.start();
  return host;
}

export async function statusOf(repo: FeedRepository, feedId: string): Promise<FeedStatusRecord | undefined> {
  return (await repo.statuses.get(feedId))?.value;
}

export async function statusBecomes(repo: FeedRepository, feedId: string, status: FeedStatusRecord['status'], timeoutMs?: number): Promise<FeedStatusRecord> {
  return until(async () => {
    const current = await statusOf(repo, feedId);
    return current?.status === status ? current : undefined;
  }, `feed ${status}`, timeoutMs);
}

export async function collectEvents(bus: EventBus, trigger: string): Promise<{ events: CloudEvent<MongoChange>[]; consumption: Consumption }> {
  const events: CloudEvent<MongoChange>[] = [];
  const consumption = await bus.consume({ durable: `mongo-test-${randomId(4)}`, filter: Subjects.event('guest', trigger) }, async (message) => {
    events.push(decodeJson<CloudEvent<MongoChange>>(message.data));
    message.ack();
  });
  return { events, consumption };
}
