import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KindlingError } from '@kindling/core';

/** What the record-log backend (before SQLite) left in a data directory. */
const RECORD_LOG_FILES = ['bus.log', 'bus.log.compacting', 'kv'];

/**
 * Refuses a data directory written by the record-log backend that SQLite replaced: its files
 * would be ignored, and everything in them (events, unfinished invocations, entities) silently
 * missing. The user decides: move it aside and start afresh, or keep running the older Kindling.
 */
export function refuseRecordLogDir(dir: string): void {
  const found = RECORD_LOG_FILES.filter((name) => existsSync(join(dir, name)));
  if (found.length === 0) return;
  throw new KindlingError(
    'KND_STORE_UNAVAILABLE',
    `${dir} holds data in the record-log format of an older Kindling (${found.join(', ')}), which this version does not read: it keeps the bus and store in SQLite (kindling.db). ` +
      `Move the directory aside (mv ${dir} ${dir}.old) and start again to begin with an empty store, or run with a fresh --data-dir; the older Kindling still opens the old directory.`,
    { field: 'dataDir', detail: { dir, found } },
  );
}
