import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { applyMigrations } from './apply-migrations.js';
import { BUS_MIGRATIONS, KV_MIGRATIONS } from './backend-schema.js';

export const DATABASE_FILE = 'kindling.db';

/**
 * Opens (creating) `<dir>/kindling.db`, or an in-memory database without `dir`, and brings its
 * tables to the newest schema. WAL mode: readers never wait for the writer, and a commit appends
 * to the log instead of rewriting pages. `synchronous=NORMAL` survives a crash of the process
 * (the commit is in the operating system's hands); `fsync` (`FULL`) survives a power loss too.
 * The file is created 0600 (SQLite gives its -wal and -shm files the same mode).
 */
export function openDatabase(dir: string | undefined, options: { fsync: boolean }): Database.Database {
  let path = ':memory:';
  if (dir !== undefined) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    path = join(dir, DATABASE_FILE);
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  }
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.fsync ? 'FULL' : 'NORMAL'}`);
    db.pragma('busy_timeout = 5000');
    applyMigrations(db, 'bus', BUS_MIGRATIONS);
    applyMigrations(db, 'kv', KV_MIGRATIONS);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
