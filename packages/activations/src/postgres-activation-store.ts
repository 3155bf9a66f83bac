import { createHash } from 'node:crypto';
import pg from 'pg';
import {
  createLogger,
  KindlingError,
  parseActivationQuery,
  parseActivationRetention,
  parseWith,
  scrubbedError,
  z,
  type ActivationQuery,
  type ActivationRecord,
  type ActivationRetention,
  type ActivationStore,
  type Logger,
  type PruneStep,
} from '@kindling/core';
import { activationRow, recordOf } from './activation-row.js';
import { partitionsToCreate, partitionName, type PartitionBounds } from './partition-plan.js';
import { queryWhere } from './query-where.js';

export interface PostgresActivationStoreOptions {
  /** `postgres://user:password@host:port/database`; a secret, never logged. */
  connectionString: string;
  retention: ActivationRetention;
  log?: Logger;
  /** Width of a time partition. Default one day; a retention shorter than two days reads better with hours. */
  partitionMs?: number;
  /** Partitions created ahead of the current one, so that writes never wait for one. Default 2. */
  partitionsAhead?: number;
  /** Connections in the pool. Default 4. */
  poolSize?: number;
  /** Rows deleted per `prune` step when a count per namespace is kept. Default 2,000. */
  pruneBatch?: number;
}

const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

const optionsSchema = z.strictObject({
  connectionString: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
  retention: z.unknown(),
  log: z.unknown().optional(),
  partitionMs: z
    .number()
    .int()
    .min(HOUR_MS)
    .refine((ms) => ms % HOUR_MS === 0 && DAY_MS % ms === 0 || ms % DAY_MS === 0, 'must be a whole number of days, or of hours dividing a day')
    .optional(),
  partitionsAhead: z.number().int().min(1).max(30).optional(),
  poolSize: z.number().int().min(1).max(64).optional(),
  pruneBatch: z.number().int().positive().max(100_000).optional(),
});

export const TABLE = 'kindling_activations';
const COUNTS = 'kindling_activation_counts';
const NO_PARTITION_FOR_ROW = '23514';
/** An advisory lock key of this schema's creation: any constant of our own. */
const SCHEMA_LOCK = 0x6b6e646c;
const ALREADY_EXISTS = ['42P07', '23505'];

/**
 * Indexes as the SQLite store's (list by time, by name, by status; get by id is the primary
 * key's prefix), declared once on the parent table: PostgreSQL creates them on every partition.
 * The table is partitioned by start time, so pruning by age drops whole partitions: no DELETE
 * scan, no bloat, no vacuum debt. Counts without a time bound are sums of a counter table per
 * (namespace, name, status, partition), kept exact by the statements that write and delete, and
 * cleared with the partition it counts.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${TABLE} (
  namespace text NOT NULL,
  activation_id text NOT NULL,
  name text NOT NULL,
  start bigint NOT NULL,
  status smallint NOT NULL,
  record text NOT NULL,
  PRIMARY KEY (namespace, activation_id, start)
) PARTITION BY RANGE (start);
CREATE INDEX IF NOT EXISTS ${TABLE}_by_start ON ${TABLE} (namespace, start, activation_id);
CREATE INDEX IF NOT EXISTS ${TABLE}_by_name ON ${TABLE} (namespace, name, start, activation_id);
CREATE INDEX IF NOT EXISTS ${TABLE}_by_status ON ${TABLE} (namespace, status, start, activation_id);
CREATE TABLE IF NOT EXISTS ${COUNTS} (
  namespace text NOT NULL,
  name text NOT NULL,
  status smallint NOT NULL,
  bucket bigint NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (namespace, name, status, bucket)
);
`;

/**
 * Activation records in PostgreSQL, shared by every api, rules and invoker process of a
 * deployment. Time-partitioned (daily by default): partitions are created ahead of time, and
 * `prune` drops the ones wholly older than the retention, so a record lives between `maxAgeMs`
 * and `maxAgeMs` plus one partition.
 */
export class PostgresActivationStore implements ActivationStore {
  readonly retention: ActivationRetention;
  private readonly pool: pg.Pool;
  private readonly log: Logger;
  private readonly partitionMs: number;
  private readonly partitionsAhead: number;
  private readonly pruneBatch: number;
  private readonly connectionString: string;

  private constructor(options: PostgresActivationStoreOptions) {
    const parsed = parseWith(optionsSchema, options, { prefix: 'options' });
    this.retention = parseActivationRetention(options.retention);
    this.log = options.log ?? createLogger({ name: 'kindling-activations' });
    this.partitionMs = parsed.partitionMs ?? DAY_MS;
    this.partitionsAhead = parsed.partitionsAhead ?? 2;
    this.pruneBatch = parsed.pruneBatch ?? 2_000;
    this.connectionString = parsed.connectionString;
    this.pool = new pg.Pool({ connectionString: parsed.connectionString, max: parsed.poolSize ?? 4 });
    this.pool.on('error', (error) => this.log.warn({ err: this.scrub(error).message }, 'an idle PostgreSQL connection of the activation store failed'));
  }

  /** Connects, creates the table and the partitions around `now` if they are missing. */
  static async open(options: PostgresActivationStoreOptions, now = Date.now()): Promise<PostgresActivationStore> {
    const store = new PostgresActivationStore(options);
    try {
      // Processes starting together would race on CREATE … IF NOT EXISTS; a lock for the length of the transaction orders them.
      await store.transaction([`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`, SCHEMA]);
      await store.ensurePartitions(now - store.partitionMs, now + store.partitionsAhead * store.partitionMs);
      store.log.info({ activations: redactedUrl(options.connectionString), partitionMs: store.partitionMs, retention: store.retention }, 'activation store on PostgreSQL');
      return store;
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  async put(record: ActivationRecord): Promise<void> {
    await this.putMany([record]);
  }

  /** One statement for the whole group (arrays unnested server-side); a record whose partition is missing creates it. */
  async putMany(records: readonly ActivationRecord[]): Promise<void> {
    if (records.length === 0) return;
    const unique = new Map<string, ActivationRecord>();
    for (const record of records) unique.set(`${record.namespace}\u0000${record.activationId}\u0000${record.start}`, record);
    const rows = [...unique.values()].map(activationRow);
    const columns: unknown[][] = [rows.map((r) => r.namespace), rows.map((r) => r.activationId), rows.map((r) => r.name), rows.map((r) => r.start), rows.map((r) => r.status), rows.map((r) => r.record)];
    columns.push([this.partitionMs]);
    // The counter rows are written in one order by every writer, so that concurrent groups never deadlock on them.
    const sql = `WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::smallint[], $6::text[]) AS i (namespace, activation_id, name, start, status, record)
      ), replaced AS (
        SELECT a.namespace, a.name, a.status, a.start FROM ${TABLE} a JOIN input i ON a.namespace = i.namespace AND a.activation_id = i.activation_id AND a.start = i.start
      ), written AS (
        INSERT INTO ${TABLE} (namespace, activation_id, name, start, status, record) SELECT * FROM input
        ON CONFLICT (namespace, activation_id, start) DO UPDATE SET name = excluded.name, status = excluded.status, record = excluded.record
        RETURNING namespace, name, status, start
      ), delta AS (
        SELECT namespace, name, status, start, 1 AS d FROM written UNION ALL SELECT namespace, name, status, start, -1 FROM replaced
      )
      INSERT INTO ${COUNTS} (namespace, name, status, bucket, n)
      SELECT namespace, name, status, (start / ($7::bigint[])[1]) * ($7::bigint[])[1], sum(d) FROM delta GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (namespace, name, status, bucket) DO UPDATE SET n = ${COUNTS}.n + excluded.n`;
    try {
      await this.query(sql, columns);
    } catch (error) {
      if ((error as { code?: string }).code !== NO_PARTITION_FOR_ROW) throw error;
      const starts = rows.map((r) => r.start);
      await this.ensurePartitions(Math.min(...starts), Math.max(...starts));
      await this.query(sql, columns);
    }
  }

  async get(namespace: string, activationId: string): Promise<ActivationRecord | null> {
    const result = await this.read<{ record: string }>(`SELECT record FROM ${TABLE} WHERE namespace = $1 AND activation_id = $2 LIMIT 1`, [namespace, activationId]);
    const row = result.rows[0];
    return row ? recordOf(row.record) : null;
  }

  async list(namespace: string, query: ActivationQuery = {}): Promise<ActivationRecord[]> {
    const parsed = parseActivationQuery(query);
    const where = queryWhere(namespace, parsed, (n) => `$${n}`);
    const n = where.values.length;
    const result = await this.read<{ record: string }>(
      `SELECT record FROM ${TABLE} WHERE ${where.sql} ORDER BY start DESC, activation_id DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...where.values, parsed.limit, parsed.skip],
    );
    return result.rows.map((row) => recordOf(row.record));
  }

  async count(namespace: string, query: ActivationQuery = {}): Promise<number> {
    const parsed = parseActivationQuery(query);
    const timeBound = parsed.since !== undefined || parsed.upto !== undefined;
    const where = queryWhere(namespace, parsed, (n) => `$${n}`);
    const sql = timeBound ? `SELECT count(*) AS n FROM ${TABLE} WHERE ${where.sql}` : `SELECT coalesce(sum(n), 0) AS n FROM ${COUNTS} WHERE ${where.sql}`;
    const result = await this.read<{ n: string }>(sql, where.values);
    return Number(result.rows[0]?.n ?? 0);
  }

  /**
   * One step: make sure the partitions ahead exist, drop one partition wholly past the
   * retention, then (with a count per namespace) delete up to a batch of rows past the count.
   */
  async prune(now: number): Promise<PruneStep> {
    await this.ensurePartitions(now, now + this.partitionsAhead * this.partitionMs);
    const cutoff = now - this.retention.maxAgeMs;
    const expired = (await this.partitions()).filter((partition) => partition.to <= cutoff);
    const [oldest] = expired;
    if (oldest) {
      await this.transaction([`DROP TABLE IF EXISTS ${oldest.name}`, `DELETE FROM ${COUNTS} WHERE bucket >= ${oldest.from} AND bucket < ${oldest.to}`]);
      this.log.info({ partition: oldest.name }, 'activation partition dropped: past the retention');
      return { removed: oldest.rows, done: expired.length === 1 && this.retention.maxCountPerNamespace === undefined };
    }
    const maxCount = this.retention.maxCountPerNamespace;
    if (maxCount === undefined) return { removed: 0, done: true };
    let removed = 0;
    for (const namespace of await this.namespaces()) {
      if (removed >= this.pruneBatch) break;
      const result = await this.query<{ removed: string }>(
        `WITH gone AS (
           DELETE FROM ${TABLE} WHERE (namespace, activation_id, start) IN (
             SELECT namespace, activation_id, start FROM ${TABLE} WHERE namespace = $1 ORDER BY start DESC, activation_id DESC OFFSET $2 LIMIT $3)
           RETURNING namespace, name, status, start
         ), uncounted AS (
           UPDATE ${COUNTS} c SET n = c.n - g.k
           FROM (SELECT namespace, name, status, (start / $4::bigint) * $4::bigint AS bucket, count(*) AS k FROM gone GROUP BY 1, 2, 3, 4) g
           WHERE c.namespace = g.namespace AND c.name = g.name AND c.status = g.status AND c.bucket = g.bucket
         )
         SELECT count(*) AS removed FROM gone`,
        [namespace, maxCount, this.pruneBatch - removed, this.partitionMs],
      );
      removed += Number(result.rows[0]?.removed ?? 0);
    }
    return { removed, done: removed < this.pruneBatch };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async transaction(statements: readonly string[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new KindlingError('KND_STORE_UNAVAILABLE', `activation store on PostgreSQL: ${this.scrub(error).message}`, { cause: this.scrub(error) });
    }
    try {
      await client.query('BEGIN');
      for (const sql of statements) await client.query(sql);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new KindlingError('KND_STORE_UNAVAILABLE', `activation store on PostgreSQL: ${this.scrub(error).message}`, { cause: this.scrub(error) });
    } finally {
      client.release();
    }
  }

  /** Creates the partitions covering [from, to]; another process creating the same one at once is fine. */
  private async ensurePartitions(from: number, to: number): Promise<void> {
    const existing = await this.partitions();
    for (const bounds of partitionsToCreate(from, to, this.partitionMs, existing)) {
      try {
        await this.query(`CREATE TABLE IF NOT EXISTS ${partitionName(TABLE, bounds.from)} PARTITION OF ${TABLE} FOR VALUES FROM (${bounds.from}) TO (${bounds.to})`);
      } catch (error) {
        if (!ALREADY_EXISTS.includes((error as { code?: string }).code ?? '')) throw error;
      }
    }
  }

  /** The table's partitions with their bounds (from the catalog, whatever width they were made with), oldest first. */
  private async partitions(): Promise<Array<PartitionBounds & { name: string; rows: number }>> {
    const result = await this.query<{ name: string; bound: string; rows: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound, greatest(c.reltuples, 0)::bigint AS rows
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relname = $1 AND p.relnamespace = to_regnamespace(current_schema())::oid`,
      [TABLE],
    );
    return result.rows
      .flatMap((row) => {
        const match = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(row.bound);
        return match ? [{ name: row.name, from: Number(match[1]), to: Number(match[2]), rows: Number(row.rows) }] : [];
      })
      .sort((a, b) => a.from - b.from);
  }

  /** Every namespace with records: one index seek per namespace (a loose index scan), not a scan. */
  private async namespaces(): Promise<string[]> {
    const result = await this.query<{ name: string }>(
      `WITH RECURSIVE ns(name) AS (SELECT min(namespace) FROM ${TABLE} UNION ALL SELECT (SELECT min(namespace) FROM ${TABLE} WHERE namespace > ns.name) FROM ns WHERE ns.name IS NOT NULL)
       SELECT name FROM ns WHERE name IS NOT NULL`,
    );
    return result.rows.map((row) => row.name);
  }

  /**
   * Reads go through named (prepared) statements: planning a query over every partition costs
   * more than running it, and a prepared statement is planned once per connection.
   */
  private read<R extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.query<R>({ name: `kindling_activations_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`, text: sql, values });
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return typeof sql === 'string' ? await this.pool.query<R>(sql, values) : await this.pool.query<R>(sql);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === NO_PARTITION_FOR_ROW || (code !== undefined && ALREADY_EXISTS.includes(code))) throw error;
      throw new KindlingError('KND_STORE_UNAVAILABLE', `activation store on PostgreSQL: ${this.scrub(error).message}`, { cause: this.scrub(error) });
    }
  }

  private scrub(error: unknown): Error {
    return scrubbedError(error, this.connectionString);
  }
}

/** The connection string as it may be shown: the password replaced. */
export function redactedUrl(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = 'redacted';
    if (url.searchParams.has('password')) url.searchParams.set('password', 'redacted');
    return url.toString();
  } catch {
    return '[unparseable connection string]';
  }
}
