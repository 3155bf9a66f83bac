import Sqlite, { type Database, type Statement } from 'better-sqlite3';
import {
  parseActivationQuery,
  parseActivationRetention,
  parseWith,
  z,
  type ActivationQuery,
  type ActivationRecord,
  type ActivationRetention,
  type ActivationStore,
  type PruneStep,
} from '@kindling/core';
import { activationRow, recordOf, type ActivationRow } from './activation-row.js';
import { applyMigrations } from '@kindling/embedded';
import { CountDeltas } from './count-deltas.js';
import { queryWhere } from './query-where.js';

export interface SqliteActivationStoreOptions {
  /** An open database to share (the embedded backend's), or … */
  database?: Database;
  /**
   * With a shared database: how its owner runs a write (the embedded backend's `write`, which
   * joins the turn's transaction and resolves once it is committed). Default: at once.
   */
  write?: <T>(write: () => T) => Promise<T>;
  /** … a file of its own, opened in WAL mode (`:memory:` for a throwaway). */
  file?: string;
  retention: ActivationRetention;
  /** Rows deleted per `prune` step. Default 2,000: a few milliseconds of work. */
  pruneBatch?: number;
}

const optionsSchema = z.strictObject({
  database: z.custom<Database>((value) => value instanceof Sqlite, 'must be an open better-sqlite3 Database').optional(),
  write: z.custom<NonNullable<SqliteActivationStoreOptions['write']>>((value) => typeof value === 'function', 'must be a function').optional(),
  file: z.string().min(1).optional(),
  retention: z.unknown(),
  pruneBatch: z.number().int().positive().max(100_000).optional(),
});

const DEFAULT_PRUNE_BATCH = 2_000;
const TABLE = 'kindling_activations';
const COUNTS = 'kindling_activation_counts';

/**
 * Why these indexes: `list` newest first walks (namespace, start) backwards, by name
 * (namespace, name, start), by status (namespace, status, start); `get` is a lookup of
 * (namespace, activation_id); pruning by age walks (namespace, start) forwards. The rowid
 * breaks ties of equal start times, and every index carries it, so every ordering is served by
 * an index alone. Counts without a time bound are sums of a counter table per (namespace,
 * name, status), kept exact by the writes and deletes of this class in their transaction: a
 * count of a million records reads a few hundred counter rows, not a million index entries.
 * (Triggers would keep it too, at a third of the insert rate: one upsert per row instead of
 * one per name and status of a group.)
 */
const SCHEMA = `
CREATE TABLE ${TABLE} (
  seq INTEGER PRIMARY KEY,
  namespace TEXT NOT NULL,
  activation_id TEXT NOT NULL,
  name TEXT NOT NULL,
  start INTEGER NOT NULL,
  status INTEGER NOT NULL,
  record TEXT NOT NULL
);
CREATE UNIQUE INDEX ${TABLE}_by_id ON ${TABLE} (namespace, activation_id);
CREATE INDEX ${TABLE}_by_start ON ${TABLE} (namespace, start);
CREATE INDEX ${TABLE}_by_name ON ${TABLE} (namespace, name, start);
CREATE INDEX ${TABLE}_by_status ON ${TABLE} (namespace, status, start);
CREATE TABLE ${COUNTS} (
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  status INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (namespace, name, status)
) WITHOUT ROWID;
`;

/** The schema's versions, applied in order by the embedded backend's `applyMigrations` (component `activations`). */
const MIGRATIONS = [SCHEMA];

/**
 * Activation records in SQLite (`better-sqlite3`): the embedded backend's store, in the
 * backend's own database file when it has one. Writes are synchronous and grouped in one
 * transaction by `putMany`; reads are index walks of a page.
 */
export class SqliteActivationStore implements ActivationStore {
  readonly retention: ActivationRetention;
  private readonly db: Database;
  private readonly ownsDatabase: boolean;
  private readonly pruneBatch: number;
  private readonly insertNew: Statement<ActivationRow>;
  private readonly selectCounted: Statement<[string, string], { name: string; status: number }>;
  private readonly replace: Statement<ActivationRow>;
  private readonly addCount: Statement<[string, string, number, number]>;
  private readonly selectOne: Statement<[string, string], { record: string }>;
  private readonly putAll: (records: readonly ActivationRecord[]) => void;
  private readonly statements = new Map<string, Statement>();
  private readonly write: NonNullable<SqliteActivationStoreOptions['write']>;

  constructor(options: SqliteActivationStoreOptions) {
    const parsed = parseWith(optionsSchema, options, { prefix: 'options' });
    this.retention = parseActivationRetention(options.retention);
    this.pruneBatch = parsed.pruneBatch ?? DEFAULT_PRUNE_BATCH;
    this.ownsDatabase = parsed.database === undefined;
    this.db = parsed.database ?? openOwnDatabase(parsed.file ?? ':memory:');
    applyMigrations(this.db, 'activations', MIGRATIONS);
    this.write = parsed.write ?? (async (write) => write());
    this.insertNew = this.db.prepare(
      `INSERT INTO ${TABLE} (namespace, activation_id, name, start, status, record) VALUES (@namespace, @activationId, @name, @start, @status, @record)
       ON CONFLICT (namespace, activation_id) DO NOTHING`,
    );
    this.selectCounted = this.db.prepare(`SELECT name, status FROM ${TABLE} WHERE namespace = ? AND activation_id = ?`);
    this.replace = this.db.prepare(
      `UPDATE ${TABLE} SET name = @name, start = @start, status = @status, record = @record WHERE namespace = @namespace AND activation_id = @activationId`,
    );
    this.addCount = this.db.prepare(
      `INSERT INTO ${COUNTS} (namespace, name, status, n) VALUES (?, ?, ?, ?) ON CONFLICT (namespace, name, status) DO UPDATE SET n = n + excluded.n`,
    );
    this.selectOne = this.db.prepare(`SELECT record FROM ${TABLE} WHERE namespace = ? AND activation_id = ?`);
    this.putAll = this.db.transaction((records: readonly ActivationRecord[]) => {
      const deltas = new CountDeltas();
      for (const record of records) {
        const row = activationRow(record);
        if (this.insertNew.run(row).changes === 0) {
          // Written before (a record finished after it was first stored): replace it, and move its count.
          const previous = this.selectCounted.get(row.namespace, row.activationId);
          if (previous) deltas.add({ namespace: row.namespace, ...previous }, -1);
          this.replace.run(row);
        }
        deltas.add(row, 1);
      }
      this.applyCounts(deltas);
    });
  }

  async put(record: ActivationRecord): Promise<void> {
    await this.write(() => this.putAll([record]));
  }

  async putMany(records: readonly ActivationRecord[]): Promise<void> {
    await this.write(() => this.putAll(records));
  }

  async get(namespace: string, activationId: string): Promise<ActivationRecord | null> {
    const row = this.selectOne.get(namespace, activationId);
    return row ? recordOf(row.record) : null;
  }

  async list(namespace: string, query: ActivationQuery = {}): Promise<ActivationRecord[]> {
    const parsed = parseActivationQuery(query);
    const where = queryWhere(namespace, parsed, () => '?');
    const rows = this.statement(`SELECT record FROM ${TABLE} WHERE ${where.sql} ORDER BY start DESC, seq DESC LIMIT ? OFFSET ?`).all(
      ...where.values,
      parsed.limit,
      parsed.skip,
    ) as Array<{ record: string }>;
    return rows.map((row) => recordOf(row.record));
  }

  async count(namespace: string, query: ActivationQuery = {}): Promise<number> {
    const parsed = parseActivationQuery(query);
    const timeBound = parsed.since !== undefined || parsed.upto !== undefined;
    const where = queryWhere(namespace, parsed, () => '?');
    const sql = timeBound ? `SELECT count(*) AS n FROM ${TABLE} WHERE ${where.sql}` : `SELECT coalesce(sum(n), 0) AS n FROM ${COUNTS} WHERE ${where.sql}`;
    return (this.statement(sql).get(...where.values) as { n: number }).n;
  }

  /** Deletes up to one batch of rows, namespace by namespace: first the too old, then any past the count. */
  async prune(now: number): Promise<PruneStep> {
    const cutoff = now - this.retention.maxAgeMs;
    const maxCount = this.retention.maxCountPerNamespace;
    const removed = await this.write(this.db.transaction(() => {
      const deltas = new CountDeltas();
      let removed = 0;
      for (const namespace of this.namespaces()) {
        if (removed >= this.pruneBatch) break;
        const gone = this.statement(
          `DELETE FROM ${TABLE} WHERE seq IN (SELECT seq FROM ${TABLE} WHERE namespace = ? AND start < ? ORDER BY start LIMIT ?) RETURNING namespace, name, status`,
        ).all(namespace, cutoff, this.pruneBatch - removed) as Array<{ namespace: string; name: string; status: number }>;
        if (maxCount !== undefined && removed + gone.length < this.pruneBatch) gone.push(...this.pruneCount(namespace, maxCount, this.pruneBatch - removed - gone.length));
        for (const row of gone) deltas.add(row, -1);
        removed += gone.length;
      }
      this.applyCounts(deltas);
      return removed;
    }));
    return { removed, done: removed < this.pruneBatch };
  }

  async close(): Promise<void> {
    if (this.ownsDatabase && this.db.open) this.db.close();
  }

  private applyCounts(deltas: CountDeltas): void {
    for (const delta of deltas.changes()) this.addCount.run(delta.namespace, delta.name, delta.status, delta.n);
  }

  private pruneCount(namespace: string, maxCount: number, budget: number): Array<{ namespace: string; name: string; status: number }> {
    const oldestKept = this.statement(`SELECT start, seq FROM ${TABLE} WHERE namespace = ? ORDER BY start DESC, seq DESC LIMIT 1 OFFSET ?`).get(namespace, maxCount - 1) as
      | { start: number; seq: number }
      | undefined;
    if (!oldestKept) return [];
    return this.statement(
      `DELETE FROM ${TABLE} WHERE seq IN (SELECT seq FROM ${TABLE} WHERE namespace = ? AND (start < ? OR (start = ? AND seq < ?)) ORDER BY start LIMIT ?) RETURNING namespace, name, status`,
    ).all(namespace, oldestKept.start, oldestKept.start, oldestKept.seq, budget) as Array<{ namespace: string; name: string; status: number }>;
  }

  /** Every namespace with records, by skipping through the id index (one seek per namespace, not a scan). */
  private namespaces(): string[] {
    const rows = this.statement(
      `WITH RECURSIVE ns(name) AS (SELECT min(namespace) FROM ${TABLE} UNION ALL SELECT (SELECT min(namespace) FROM ${TABLE} WHERE namespace > ns.name) FROM ns WHERE ns.name IS NOT NULL)
       SELECT name FROM ns WHERE name IS NOT NULL`,
    ).all() as Array<{ name: string }>;
    return rows.map((row) => row.name);
  }

  /** Statements are prepared once per shape of query; there are few shapes (which filters are set). */
  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }
}

function openOwnDatabase(file: string): Database {
  const db = new Sqlite(file);
  db.pragma('journal_mode = WAL');
  // WAL with synchronous=NORMAL is durable across a crash of the process; only a power loss can drop the last commits.
  db.pragma('synchronous = NORMAL');
  return db;
}
