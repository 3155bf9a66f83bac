import type { Database } from 'better-sqlite3';
import { join } from 'node:path';
import { createLogger, parseWith, systemClock, z, type Clock, type EventBus, type KeyValueStore, type Logger } from '@kindling/core';
import { lockDataDir } from './data-dir-lock.js';
import { EmbeddedBus, type StreamInfo } from './embedded-bus.js';
import { EmbeddedStore } from './embedded-store.js';
import { GroupedWriter } from './grouped-writer.js';
import { openDatabase } from './open-database.js';
import { refuseRecordLogDir } from './refuse-record-log-dir.js';

export interface EmbeddedBackendOptions {
  /** Where to persist the bus and the store (`<dataDir>/kindling.db`); without it everything lives in memory only. */
  dataDir?: string;
  /** Keeps this backend's files in `<dataDir>/<scope>`, apart from other scopes. */
  scope?: string;
  log?: Logger;
  /** `synchronous=FULL`: every commit reaches the disk before it is acknowledged (survives power loss; slower). Default false. */
  fsync?: boolean;
  /** Trigger events older than this leave the events stream. Default 1 hour. */
  eventsMaxAgeMs?: number;
  /** Time of publishes, as events' age and the msgId window are measured (tests move it). Default the system's. */
  clock?: Clock;
}

export interface EmbeddedBackend {
  bus: EventBus;
  store: KeyValueStore;
  /**
   * The open SQLite database, for other components to keep their tables in the same file (one
   * file to back up). Prefix the tables, version them with `applyMigrations`, and write through
   * `write` so that the writes join the turn's transaction.
   */
  database: Database;
  /** Runs `write` in this turn's transaction (see `GroupedWriter`); resolves once committed. */
  write<T>(write: () => T): Promise<T>;
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
  clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function', 'must be a Clock').optional(),
});

/** Opens the in-process bus and store on SQLite, in `dataDir` or in memory. */
export async function openEmbeddedBackend(options: EmbeddedBackendOptions = {}): Promise<EmbeddedBackend> {
  const parsed = parseWith(optionsSchema, options, { prefix: 'options' });
  const log = parsed.log ?? createLogger({ name: 'kindling-embedded' });
  const dir = parsed.dataDir === undefined ? undefined : parsed.scope === undefined ? parsed.dataDir : join(parsed.dataDir, parsed.scope);
  const unlock = dir === undefined ? async () => undefined : await lockDataDir(dir);
  let db: Database | undefined;
  try {
    if (dir !== undefined) refuseRecordLogDir(dir);
    const database = openDatabase(dir, { fsync: parsed.fsync ?? false });
    db = database;
    const writer = new GroupedWriter(database, log);
    const bus = new EmbeddedBus({ db: database, writer, log, clock: parsed.clock ?? systemClock, eventsMaxAgeMs: parsed.eventsMaxAgeMs ?? DEFAULT_EMBEDDED_EVENTS_MAX_AGE_MS });
    const store = new EmbeddedStore(database, writer);
    let closing: Promise<void> | undefined;
    return {
      bus,
      store,
      database,
      write: (write) => writer.write(write),
      streamInfo: (stream) => bus.streamInfo(stream),
      close() {
        closing ??= (async () => {
          await Promise.all([bus.close(), store.close()]);
          writer.close();
          database.close();
          await unlock();
        })();
        return closing;
      },
    };
  } catch (error) {
    db?.close();
    await unlock();
    throw error;
  }
}
