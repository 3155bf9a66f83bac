import { join } from 'node:path';
import { DEFAULT_KEY_VALUE_RETENTION, KeyValueActivationStore, type ActivationRetention, type ActivationStore, type KeyValueStore, type Logger } from '@kindling/core';
import { PostgresActivationStore, redactedUrl, SqliteActivationStore, type SqliteActivationStoreOptions } from '@kindling/activations';

/** `kindling up` on the embedded backend: a day, and a bound on the disk at a burst (about a gigabyte per namespace). */
export const DEFAULT_EMBEDDED_ACTIVATION_RETENTION: ActivationRetention = { maxAgeMs: 24 * 60 * 60_000, maxCountPerNamespace: 1_000_000 };
/** A deployment on PostgreSQL: a week, pruned a day (a partition) at a time. */
export const DEFAULT_POSTGRES_ACTIVATION_RETENTION: ActivationRetention = { maxAgeMs: 7 * 24 * 60 * 60_000 };

export interface ActivationStoreSettings {
  /** `postgres://…`: keep activations in PostgreSQL. */
  url?: string;
  maxAgeMs?: number;
  maxCountPerNamespace?: number;
}

/** What the activation store is opened beside: the backend (its SQLite database, when it has one), the data directory. */
export interface ActivationStoreHome {
  store: KeyValueStore;
  /** The embedded backend's open database, when the backend has one: activations then live in the same file. */
  database?: SqliteActivationStoreOptions['database'];
  /** How the backend runs a write in `database` (joining its turn's transaction). */
  write?: SqliteActivationStoreOptions['write'];
  embedded: boolean;
  dataDir: string;
  log: Logger;
}

/**
 * PostgreSQL when a URL is given; else SQLite on the embedded backend (in its database, or in
 * `activations.sqlite` in the data directory); else, on NATS, the bounded key-value store.
 */
export async function openActivationStore(settings: ActivationStoreSettings, home: ActivationStoreHome): Promise<ActivationStore> {
  const log = home.log.child({ component: 'activations' });
  if (settings.url) {
    const retention = retentionOf(settings, DEFAULT_POSTGRES_ACTIVATION_RETENTION);
    log.info({ store: 'postgres', url: redactedUrl(settings.url), retention }, 'activation store');
    return PostgresActivationStore.open({ connectionString: settings.url, retention, log });
  }
  if (home.embedded) {
    const retention = retentionOf(settings, DEFAULT_EMBEDDED_ACTIVATION_RETENTION);
    const where = home.database ? { database: home.database, ...(home.write ? { write: home.write } : {}) } : { file: join(home.dataDir, 'activations.sqlite') };
    log.info({ store: 'sqlite', file: where.file ?? 'the embedded backend’s database', retention }, 'activation store');
    return new SqliteActivationStore({ ...where, retention });
  }
  const retention = retentionOf(settings, DEFAULT_KEY_VALUE_RETENTION);
  log.info({ store: 'key-value', retention }, 'activation store: bounded, on the NATS key-value store (give --activations postgres://… for more)');
  return KeyValueActivationStore.open(home.store, retention);
}

function retentionOf(settings: ActivationStoreSettings, defaults: ActivationRetention): ActivationRetention {
  const maxCount = settings.maxCountPerNamespace ?? defaults.maxCountPerNamespace;
  return { maxAgeMs: settings.maxAgeMs ?? defaults.maxAgeMs, ...(maxCount === undefined ? {} : { maxCountPerNamespace: maxCount }) };
}
