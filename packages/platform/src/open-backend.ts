import { join } from 'node:path';
import type { EventBus, KeyValueStore } from '@kindling/core';
import { openEmbeddedBackend } from '@kindling/embedded';
import { connectNatsBackend } from '@kindling/nats';
import type { SqliteActivationStoreOptions } from '@kindling/activations';
import type { PlatformOptions } from './platform-options.js';

export interface Backend {
  bus: EventBus;
  store: KeyValueStore;
  /** The embedded backend's SQLite database, when it has one: activation records live in the same file. */
  database?: SqliteActivationStoreOptions['database'];
  /** How the owner of `database` runs a write (in its turn's transaction). */
  write?: SqliteActivationStoreOptions['write'];
  close(): Promise<void>;
}

/** NATS JetStream when `--nats` is given, else the embedded bus and store under the data directory. */
export async function openBackend(options: PlatformOptions): Promise<Backend> {
  const log = options.log.child({ component: 'backend' });
  if (options.natsUrl) {
    return connectNatsBackend({ servers: options.natsUrl, log, ...(options.natsScope ? { scope: options.natsScope } : {}) });
  }
  return openEmbeddedBackend({ dataDir: join(options.dataDir, 'embedded'), log });
}
