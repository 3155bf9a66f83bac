import type { Database } from 'better-sqlite3';
import { KindlingError } from '@kindling/core';

/**
 * Brings the tables of one component of a shared database (`bus`, `kv`, `activations`…) to the
 * newest schema: migration `i` (0-based) moves it from version `i` to `i + 1`, and the version
 * reached is kept in `schema_versions` beside the component's name, so that several components
 * can keep their tables in one file and evolve them each at its own pace. Every migration and
 * its version bump commit together. A database newer than this code is refused.
 */
export function applyMigrations(db: Database, component: string, migrations: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID');
  const row = db.prepare<[string], { version: number }>('SELECT version FROM schema_versions WHERE component = ?').get(component);
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new KindlingError('KND_STORE_UNAVAILABLE', `${db.name} holds ${component} tables of schema version ${current}, newer than this Kindling knows (${migrations.length}); run a newer Kindling on it.`, { field: 'dataDir' });
  }
  const setVersion = db.prepare('INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version');
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] as string);
      setVersion.run(component, version + 1);
    })();
  }
}
