import type { Database, Statement } from 'better-sqlite3';
import { KindlingError, messageOf, type Logger } from '@kindling/core';

interface Batch {
  committed: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Groups the writes of one turn of the event loop into one SQLite transaction, so that a burst
 * of publishes costs one commit rather than one each.
 *
 * The first write of a turn opens the transaction; every write runs at once inside it (so reads
 * on the connection see it straight away: a compare-and-set that follows sees the write before);
 * the transaction commits on `setImmediate`, and only then do the writes' promises resolve. A
 * failed commit is rolled back and fails every write of the batch; after it, the writer refuses
 * everything (the in-memory sequences and revisions no longer match the file): restart to recover.
 */
export class GroupedWriter {
  private batch: Batch | null = null;
  private failure: Error | null = null;
  private closed = false;
  private readonly beforeCommitHooks = new Map<string, () => void>();
  private readonly afterCommitHooks = new Map<string, () => void>();
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {
    this.begin = db.prepare('BEGIN');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
  }

  /** Runs `write` now, in this turn's transaction; resolves with its result once committed. */
  write<T>(write: () => T): Promise<T> {
    let batch: Batch;
    let result: T;
    try {
      batch = this.open();
      result = write();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return batch.committed.then(() => result);
  }

  /** As `write`, for writes nobody waits for (settlements): a failure is logged. */
  writeUnawaited(write: () => void): void {
    this.write(write).catch((error: unknown) => this.log.warn({ err: messageOf(error) }, 'an unawaited write failed'));
  }

  /**
   * Runs `hook` once just before this turn's commit, however often it is asked for under `key`.
   * Once the writer has failed or closed, nothing is run: the writes themselves report that.
   */
  beforeCommit(key: string, hook: () => void): void {
    if (this.failure || this.closed) return;
    this.open();
    this.beforeCommitHooks.set(key, hook);
  }

  /** Runs `hook` once just after this turn's commit, before the writes' promises resolve. */
  afterCommit(key: string, hook: () => void): void {
    if (this.failure || this.closed) return;
    this.open();
    this.afterCommitHooks.set(key, hook);
  }

  /** Resolves once everything written so far is committed. */
  committed(): Promise<void> {
    return this.batch?.committed ?? Promise.resolve();
  }

  /** Commits what is pending now; writes are refused afterwards. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private open(): Batch {
    if (this.failure) throw this.failure;
    if (this.closed) throw new KindlingError('KND_STORE_UNAVAILABLE', `${this.db.name} is closed.`);
    if (this.batch) return this.batch;
    this.begin.run();
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const committed = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Unawaited writes leave nobody to observe a failure: it is logged once, in flush.
    committed.catch(() => undefined);
    this.batch = { committed, resolve, reject };
    setImmediate(() => this.flush());
    return this.batch;
  }

  private flush(): void {
    const batch = this.batch;
    if (!batch) return;
    try {
      for (const hook of this.beforeCommitHooks.values()) hook();
      this.commit.run();
    } catch (error) {
      this.failure = new KindlingError('KND_STORE_UNAVAILABLE', `cannot write ${this.db.name}: ${messageOf(error)}. Nothing more is accepted; restart to recover.`, { cause: error });
      this.log.error({ path: this.db.name, err: messageOf(error) }, 'a grouped write failed; no further writes are accepted');
      if (this.db.inTransaction) this.rollback.run();
      this.batch = null;
      this.beforeCommitHooks.clear();
      this.afterCommitHooks.clear();
      batch.reject(this.failure);
      return;
    }
    this.batch = null;
    this.beforeCommitHooks.clear();
    const hooks = [...this.afterCommitHooks.values()];
    this.afterCommitHooks.clear();
    for (const hook of hooks) hook();
    batch.resolve();
  }
}
