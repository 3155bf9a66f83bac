import { createLogger, KindlingError, messageOf, parseWith, z, type EventBus, type KeyValueStore, type Logger } from '@kindling/core';
import { connect, type NatsConnection } from 'nats';
import { ensureStreams } from './ensure-streams.js';
import { JetStreamPublisher } from './jet-stream-publisher.js';
import { NatsBus } from './nats-bus.js';
import { unavailable } from './nats-errors.js';
import { NatsScope } from './nats-scope.js';
import { NatsStore } from './nats-store.js';

export interface NatsBackendOptions {
  /** Server URL(s), comma-separated: `nats://127.0.0.1:4222`. */
  servers: string;
  /** Test-isolation prefix for every stream, bucket, durable and subject (letters, digits, -). */
  scope?: string;
  log?: Logger;
  /** Trigger events older than this leave the events stream. Default 24 hours. */
  eventsMaxAgeMs?: number;
  /** How long the server has to ack a publish or key-value write. Default 5 s. */
  publishAckTimeoutMs?: number;
}

export interface NatsBackend {
  bus: EventBus;
  store: KeyValueStore;
  /** Message count and last sequence of a stream of core's `Streams` (for metrics and tests). */
  streamInfo(stream: string): Promise<{ messages: number; lastSeq: number }>;
  /** Deletes every stream and bucket of the scope (only with a scope: for test clean-up). */
  destroyScope(): Promise<void>;
  /** Stops consumers and watches, then drains and closes the connection. */
  close(): Promise<void>;
}

export const DEFAULT_NATS_EVENTS_MAX_AGE_MS = 24 * 60 * 60_000;

const optionsSchema = z.strictObject({
  servers: z.string().min(1),
  scope: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be letters, digits and - only').optional(),
  log: z.custom<Logger>((value) => typeof value === 'object' && value !== null && typeof (value as Logger).info === 'function', 'must be a pino logger').optional(),
  eventsMaxAgeMs: z.number().int().positive().optional(),
  publishAckTimeoutMs: z.number().int().positive().optional(),
});

/** Connects to NATS, makes sure the streams exist, and returns the bus and store on it. */
export async function connectNatsBackend(options: NatsBackendOptions): Promise<NatsBackend> {
  const parsed = parseWith(optionsSchema, options, { prefix: 'options' });
  const log = parsed.log ?? createLogger({ name: 'kindling-nats' });
  const scope = new NatsScope(parsed.scope);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: parsed.servers.split(',').map((s) => s.trim()),
      name: 'kindling',
      maxReconnectAttempts: -1,
      // nats.js would otherwise make an Error per request for async stack traces: a large share
      // of the client's CPU per publish, and the client's CPU is what bounds throughput.
      noAsyncTraces: true,
    });
  } catch (error) {
    throw new KindlingError('KND_BUS_UNAVAILABLE', `cannot connect to NATS at ${parsed.servers}: ${messageOf(error)}`, { cause: error });
  }
  try {
    const jsm = await nc.jetstreamManager();
    await ensureStreams(jsm, scope, parsed.eventsMaxAgeMs ?? DEFAULT_NATS_EVENTS_MAX_AGE_MS);
    const js = nc.jetstream();
    void logStatus(nc, log);
    const publisher = new JetStreamPublisher(nc, parsed.publishAckTimeoutMs);
    const bus = new NatsBus(nc, js, jsm, publisher, scope, log);
    const store = new NatsStore(js, publisher, scope, log);
    let closing: Promise<void> | undefined;
    return {
      bus,
      store,
      async streamInfo(stream) {
        try {
          const info = await jsm.streams.info(scope.name(stream));
          return { messages: info.state.messages, lastSeq: info.state.last_seq };
        } catch (error) {
          throw unavailable('KND_BUS_UNAVAILABLE', `stream info of ${stream}`, error);
        }
      },
      async destroyScope() {
        if (parsed.scope === undefined) throw new KindlingError('KND_VALIDATION', 'destroyScope() needs a scope: it never deletes unscoped streams.', { field: 'options.scope' });
        const names: string[] = [];
        for await (const name of jsm.streams.names()) if (scope.ownsStream(name)) names.push(name);
        await Promise.all(names.map((name) => jsm.streams.delete(name)));
      },
      close() {
        closing ??= (async () => {
          await Promise.all([bus.close(), store.close()]);
          // Draining delivers the acks that arrive meanwhile; what is still waiting after it fails.
          if (!nc.isClosed()) await nc.drain();
          publisher.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await nc.close();
    throw unavailable('KND_BUS_UNAVAILABLE', `setting up JetStream streams at ${parsed.servers}`, error);
  }
}

/** Connection changes, one log line each: a reconnecting bus should be visible in the logs. */
async function logStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'pingTimer') continue;
    log.info({ type: status.type, data: typeof status.data === 'object' ? undefined : status.data }, 'NATS connection status');
  }
}
