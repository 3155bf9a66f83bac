import { FeedParamError } from '@kindling/sdk';
import type pg from 'pg';
import type { Operation } from './change-assembler.js';
import { displayTableName, quoteTableName, type TableName } from './table-name.js';

/** The message for a server whose `wal_level` does not allow logical decoding. */
export function walLevelProblem(walLevel: string): string | undefined {
  if (walLevel === 'logical') return undefined;
  return (
    `the server's wal_level is '${walLevel}', and logical replication needs 'logical'. ` +
    `As a superuser run ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL ` +
    `(or set wal_level = logical in postgresql.conf and restart)`
  );
}

/**
 * Checks, before a feed is stored, that the server can feed it: logical WAL, a role allowed to
 * replicate, and tables that exist, can be published, and can publish the operations asked for
 * without breaking the application's own writes. (Free replication slots are not checked here:
 * an UPDATE of a feed re-validates while its own slot is counted. A full server fails the start
 * with a message saying so.)
 */
export async function checkSource(client: pg.Client, tables: TableName[], operations: readonly Operation[]): Promise<void> {
  const settings = await client.query<{ wal_level: string; may_replicate: boolean; role: string }>(
    `SELECT current_setting('wal_level') AS wal_level,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS may_replicate,
            current_user AS role`,
  );
  const server = settings.rows[0];
  if (!server) throw new FeedParamError('connection', 'the server did not report its settings');
  const walProblem = walLevelProblem(server.wal_level);
  if (walProblem) throw new FeedParamError('connection', walProblem);
  if (!server.may_replicate) {
    throw new FeedParamError('connection', `role '${server.role}' may not start replication: ALTER ROLE ${server.role} WITH REPLICATION (or use a superuser)`);
  }
  for (const table of tables) await checkTable(client, table, operations);
}

async function checkTable(client: pg.Client, table: TableName, operations: readonly Operation[]): Promise<void> {
  const shown = displayTableName(table);
  const { rows } = await client.query<{ relkind: string; relreplident: string; has_key: boolean }>(
    `SELECT c.relkind, c.relreplident,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident)) AS has_key
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2`,
    [table.schema, table.name],
  );
  const found = rows[0];
  if (!found) {
    const { rows: db } = await client.query<{ database: string }>('SELECT current_database() AS database');
    throw new FeedParamError('tables', `table ${shown} does not exist in database '${db[0]?.database ?? '?'}'`);
  }
  if (found.relkind !== 'r' && found.relkind !== 'p') {
    throw new FeedParamError('tables', `${shown} is not a table (only tables can be published)`);
  }
  // Replica identity: f full, n nothing, d the primary key, i a chosen unique index.
  const identityless = found.relreplident === 'n' || (found.relreplident !== 'f' && !found.has_key);
  const changesRows = operations.includes('update') || operations.includes('delete');
  if (identityless && changesRows) {
    // Once published, UPDATE and DELETE on such a table fail with "cannot update table … because
    // it does not have a replica identity": the feed would break the application's writes.
    throw new FeedParamError(
      'tables',
      `table ${shown} has no primary key or replica identity, so once its updates and deletes are published PostgreSQL refuses them; ` +
        `add a primary key, or ALTER TABLE ${quoteTableName(table)} REPLICA IDENTITY FULL, or watch only insert,truncate`,
    );
  }
}
