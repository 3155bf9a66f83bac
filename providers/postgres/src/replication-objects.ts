import { FeedError } from '@kindling/sdk';
import pg from 'pg';
import type { Operation } from './change-assembler.js';
import { quoteTableName, type TableName } from './table-name.js';

/** Opens a plain (non-replication) connection for the duration of `use`. */
export async function withConnection<T>(connection: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: connection, connectionTimeoutMillis: 10_000 });
  // An error event after connect (the server going away) must not crash the process: the
  // pending query rejects with it anyway.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates the feed's publication, or brings an existing one in line with the parameters (an
 * UPDATE of the feed may have changed its tables or operations).
 */
export async function ensurePublication(client: pg.Client, name: string, tables: TableName[], operations: readonly Operation[]): Promise<void> {
  const tableList = tables.map(quoteTableName).join(', ');
  const publish = pg.escapeLiteral(operations.join(', '));
  const publication = pg.escapeIdentifier(name);
  const { rowCount } = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name]);
  if (rowCount === 0) {
    await client.query(`CREATE PUBLICATION ${publication} FOR TABLE ${tableList} WITH (publish = ${publish})`);
    return;
  }
  await client.query(`ALTER PUBLICATION ${publication} SET TABLE ${tableList}`);
  await client.query(`ALTER PUBLICATION ${publication} SET (publish = ${publish})`);
}

/** Creates the feed's logical replication slot (pgoutput) unless it exists; checks one that does. */
export async function ensureSlot(client: pg.Client, name: string): Promise<void> {
  const { rows } = await client.query<{ plugin: string; database: string; current: string }>(
    'SELECT plugin, database, current_database() AS current FROM pg_replication_slots WHERE slot_name = $1',
    [name],
  );
  const existing = rows[0];
  if (!existing) {
    // Waits for transactions already running to finish: the slot starts at a consistent point.
    await client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [name]);
    return;
  }
  if (existing.plugin !== 'pgoutput' || existing.database !== existing.current) {
    throw new FeedError(
      `replication slot '${name}' already exists for ${existing.plugin} in database '${existing.database}'; ` +
        `choose another 'slotName' or drop that slot`,
      { retryable: false },
    );
  }
}

export interface SlotState {
  active: boolean;
  confirmedFlushLsn: string | null;
  /** Bytes of WAL the server keeps for this slot: from its confirmed position to the current end. */
  lagBytes: number | null;
}

export async function slotState(client: pg.Client, name: string): Promise<SlotState | undefined> {
  const { rows } = await client.query<{ active: boolean; confirmed: string | null; lag: string | null }>(
    `SELECT active, confirmed_flush_lsn::text AS confirmed,
            pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag
       FROM pg_replication_slots WHERE slot_name = $1`,
    [name],
  );
  const row = rows[0];
  if (!row) return undefined;
  return { active: row.active, confirmedFlushLsn: row.confirmed, lagBytes: row.lag === null ? null : Number(row.lag) };
}

/**
 * Drops the slot and the publication. A slot still held by a connection (a host that has not
 * noticed yet that the feed is gone) cannot be dropped: that connection is ended first.
 */
export async function dropReplicationObjects(client: pg.Client, name: string, signal: AbortSignal): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const { rows } = await client.query<{ active_pid: number | null }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [name]);
    const slot = rows[0];
    if (!slot) break;
    if (slot.active_pid === null) {
      try {
        await client.query('SELECT pg_drop_replication_slot($1)', [name]);
        break;
      } catch (error) {
        // 55006 object_in_use: it became active between the two statements; 42704: already gone.
        const code = (error as { code?: string }).code;
        if (code === '42704') break;
        if (code !== '55006' || attempt >= 20) throw error;
      }
    } else {
      if (attempt >= 20) throw new Error(`replication slot '${name}' stays in use by backend ${slot.active_pid}`);
      await client.query('SELECT pg_terminate_backend($1)', [slot.active_pid]);
    }
    if (signal.aborted) throw signal.reason;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await client.query(`DROP PUBLICATION IF EXISTS ${pg.escapeIdentifier(name)}`);
}
