import { join } from 'node:path';
import { createLogger, parseWith, z, type EventBus, type KeyValueStore, type Logger } from '@kindling/core';
import { lockDataDir } from './data-dir-lock.js';
import { EmbeddedBus, type StreamInfo } from './embedded-bus.js';
import { EmbeddedStore } from './embedded-store.js';

export interface EmbeddedBackendOptions {
  /** Where to persist the bus and the store; without it everything lives in memory only. */
  dataDir?: string;
  /** Keeps this backend's files in `<dataDir>/<scope>`, apart from other scopes. */
  scope?: string;
  log?: Logger;
  /** `fdatasync` every write before acknowledging it (survives power loss; slower). Default false. */
  fsync?: boolean;
  /** Trigger events older than this leave the events stream. Default 1 hour. */
  eventsMaxAgeMs?: number;
}

export interface EmbeddedBackend {
  bus: EventBus;
  store: KeyValueStore;
  /** Message count and last sequence of a stream of core's `Streams` (for metrics and tests). */
  streamInfo(stream: string): Promise<StreamInfo>;
  close(): Promise<void>;
}

export const DEFAULT_EMBEDDED_EVENTS_MAX_AGE_MS = 60 * 60_000;

const optionsSchema = z.strictObject({
  dataDir: z.string().min(1).optional(),
  scope: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be letters, digits and - only').optional(),
  log: z.custom<Logger>((value) => typeof value === 'object' && value !== null && typeof (value as Logger).info === 'function', 'must be a pino logger').optional(),
  fsync: z.boolean().optional(),
  eventsMaxAgeMs: z.number().int().positive().optional(),
});

/** Opens the in-process bus and store, replaying (and compacting) their logs under `dataDir`. */
export async function openEmbeddedBackend(options: EmbeddedBackendOptions = {}): Promise<EmbeddedBackend> {
  const parsed = parseWith(optionsSchema, options, { prefix: 'options' });
  const log = parsed.log ?? createLogger({ name: 'kindling-embedded' });
  const dir = parsed.dataDir === undefined ? undefined : parsed.scope === undefined ? parsed.dataDir : join(parsed.dataDir, parsed.scope);
  const unlock = dir === undefined ? async () => undefined : await lockDataDir(dir);
  const settings = { fsync: parsed.fsync ?? false, log, ...(dir === undefined ? {} : { dir }) };
  try {
    const bus = await EmbeddedBus.open({ ...settings, eventsMaxAgeMs: parsed.eventsMaxAgeMs ?? DEFAULT_EMBEDDED_EVENTS_MAX_AGE_MS });
    const store = new EmbeddedStore(settings);
    let closing: Promise<void> | undefined;
    return {
      bus,
      store,
      streamInfo: (stream) => bus.streamInfo(stream),
      close() {
        closing ??= (async () => {
          await Promise.all([bus.close(), store.close()]);
          await unlock();
        })();
        return closing;
      },
    };
  } catch (error) {
    await unlock();
    throw error;
  }
}
