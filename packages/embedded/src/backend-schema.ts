/**
 * The embedded backend's tables, prefixed so that other components' tables (the activation
 * store's) can live in the same file. Migrations only ever get appended to these lists.
 *
 * - `bus_streams`: each stream's last sequence (sequences never go back, even once the work
 *   queue is empty);
 * - `bus_messages_<stream>` (see `streamTable`): one table per stream, a row per stored message,
 *   its sequence the rowid; a work-queue message leaves once settled, an event once older than
 *   the stream's max age;
 * - `bus_msg_ids`: the `msgId`s inside the duplicate window, by time for pruning;
 * - `bus_consumers`: durable consumers, with their position (every message up to it looked at);
 * - `bus_deliveries`: messages a consumer delivered and awaits the settlement of;
 * - `kv_buckets` / `kv_entries`: each bucket's last revision, and its live keys.
 */
export const BUS_MIGRATIONS: readonly string[] = [
  `CREATE TABLE bus_streams (name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE bus_msg_ids (stream TEXT NOT NULL, msg_id TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, PRIMARY KEY (stream, msg_id)) WITHOUT ROWID;
   CREATE INDEX bus_msg_ids_by_time ON bus_msg_ids (time);
   CREATE TABLE bus_consumers (name TEXT PRIMARY KEY, stream TEXT NOT NULL, filter TEXT NOT NULL, ack_wait_ms INTEGER NOT NULL, position INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE bus_deliveries (consumer TEXT NOT NULL, seq INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (consumer, seq)) WITHOUT ROWID;`,
];

export const KV_MIGRATIONS: readonly string[] = [
  `CREATE TABLE kv_buckets (name TEXT PRIMARY KEY, last_revision INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE kv_entries (bucket TEXT NOT NULL, key TEXT NOT NULL, revision INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY (bucket, key));`,
];

/** The table of a stream's messages (core's stream names are `[A-Z_]`). */
export function streamTable(stream: string): string {
  return `bus_messages_${stream.toLowerCase()}`;
}

/**
 * The statement that creates a stream's table when it is missing: run on every open, so that a
 * stream added to core's `Streams` gets its table without a migration. The sequence is the
 * rowid: one b-tree, appends at its end, and range reads in order.
 */
export function streamTableDdl(stream: string): string {
  return `CREATE TABLE IF NOT EXISTS ${streamTable(stream)} (seq INTEGER PRIMARY KEY, subject TEXT NOT NULL, data BLOB NOT NULL, headers TEXT, time INTEGER NOT NULL)`;
}
