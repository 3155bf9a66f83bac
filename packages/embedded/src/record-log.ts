import { open, readFile, rename, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KindlingError, type Logger } from '@kindling/core';

/**
 * An append-only log of JSON records, one per line: how the embedded bus and store persist.
 *
 * Appends made while a write is under way are gathered and written with the next single
 * `write`, so that many concurrent publishes cost one system call rather than one each. An
 * append resolves once its line has been handed to the operating system (it survives a crash of
 * the process); with `fsync` it resolves only after `fdatasync`, so it survives a power loss too.
 *
 * Records must be idempotent when replayed over a state that already contains them ("set",
 * never "increment"): the log compacts itself by writing a snapshot of the live state while
 * appends keep arriving, and the appends queued at that moment are written after the snapshot.
 */
export interface RecordLog {
  append(record: object): Promise<void>;
  close(): Promise<void>;
}

export type SnapshotEntry = object | (() => object);

export interface FileRecordLogOptions {
  fsync: boolean;
  log: Logger;
  /**
   * The live state as records, taken synchronously; used to compact the file. An entry may be a
   * function that makes its record when it is written: for records of immutable data whose
   * encoding is costly (a message's base64 payload), so that taking the snapshot stays cheap.
   */
  snapshot: () => SnapshotEntry[];
  /** Compact once this many bytes were appended since the last snapshot (and the file doubled). */
  compactAfterBytes?: number;
}

/** Logs for memory-only backends: nothing is written, every append is at once "durable". */
export const memoryRecordLog: RecordLog = {
  append: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

interface Pending {
  line: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Reads every complete record of the file at `path` (none when it does not exist). */
export async function readRecords(path: string, log: Logger): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const records: unknown[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line === '') return;
    try {
      records.push(JSON.parse(line));
    } catch {
      // Only the last line can be torn (the process died mid-write); its append never resolved.
      if (i === lines.length - 1) log.warn({ path }, 'ignoring a torn last record');
      else throw new KindlingError('KND_STORE_UNAVAILABLE', `${path} is corrupt at line ${i + 1}; restore it from a backup or remove it.`);
    }
  });
  return records;
}

/** Records serialised between two yields to the event loop while compacting. */
const COMPACTION_SLICE = 500;

/**
 * A compaction under way: the snapshot is written to a new file while appends go on to the old
 * one; what they write meanwhile is kept and appended to the new file just before the swap.
 */
interface Compaction {
  appendedSince: Buffer[];
  /** Set once the snapshot is on disk: the new file and the snapshot's size. */
  written?: { handle: FileHandle; bytes: number };
  finished: Promise<void>;
}

export class FileRecordLog implements RecordLog {
  private queue: Pending[] = [];
  private writing: Promise<void> | null = null;
  private failure: Error | null = null;
  private bytesSinceSnapshot = 0;
  private snapshotBytes = 0;
  private compaction: Compaction | null = null;

  private constructor(
    private readonly path: string,
    private handle: FileHandle,
    private readonly options: FileRecordLogOptions,
  ) {}

  /** Opens `path`, replacing its content with `options.snapshot()` (compaction on open). */
  static async open(path: string, options: FileRecordLogOptions): Promise<FileRecordLog> {
    await mkdir(dirname(path), { recursive: true });
    const log = new FileRecordLog(path, await open(path, 'a'), options);
    const written = await log.writeSnapshot(options.snapshot());
    await log.swapIn(written, Buffer.alloc(0));
    return log;
  }

  append(record: object): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ line: `${JSON.stringify(record)}\n`, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  async close(): Promise<void> {
    await this.compaction?.finished;
    await this.writing;
    await this.handle.close();
  }

  private get threshold(): number {
    return Math.max(this.options.compactAfterBytes ?? 64 * 1024 * 1024, this.snapshotBytes);
  }

  private async drain(): Promise<void> {
    // Let the appends of the current turn of the event loop join the first write.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0 || this.compaction?.written) {
      try {
        if (this.compaction?.written) {
          const { written, appendedSince } = this.compaction;
          this.compaction = null;
          await this.swapIn(written, Buffer.concat(appendedSince));
          continue;
        }
        const batch = this.queue;
        this.queue = [];
        const data = Buffer.from(batch.map((p) => p.line).join(''), 'utf8');
        try {
          await this.handle.write(data);
          if (this.options.fsync) await this.handle.datasync();
        } catch (error) {
          for (const p of batch) p.reject(this.fail(error));
          throw error;
        }
        this.bytesSinceSnapshot += data.length;
        this.compaction?.appendedSince.push(data);
        for (const p of batch) p.resolve();
        if (!this.compaction && this.bytesSinceSnapshot > this.threshold) this.startCompaction();
      } catch (error) {
        const failure = this.fail(error);
        for (const p of this.queue) p.reject(failure);
        this.queue = [];
        break;
      }
    }
    this.writing = null;
  }

  private fail(error: unknown): Error {
    if (!this.failure) {
      this.failure = new KindlingError('KND_STORE_UNAVAILABLE', `cannot write ${this.path}: ${(error as Error).message}`, { cause: error });
      this.options.log.error({ path: this.path, err: (error as Error).message }, 'record log write failed; no further writes are accepted');
    }
    return this.failure;
  }

  /**
   * Starts writing a snapshot of the live state beside the log, without holding up appends. The
   * snapshot is taken now, in this turn, so the appends written from here on are exactly what
   * it lacks.
   */
  private startCompaction(): void {
    const records = this.options.snapshot();
    const compaction: Compaction = { appendedSince: [], finished: Promise.resolve() };
    compaction.finished = this.writeSnapshot(records).then(
      (written) => {
        compaction.written = written;
        this.writing ??= this.drain();
      },
      (error) => {
        this.options.log.warn({ path: this.path, err: (error as Error).message }, 'compacting the record log failed; it keeps growing until the next try');
        if (this.compaction === compaction) this.compaction = null;
      },
    );
    this.compaction = compaction;
  }

  /**
   * Writes records to a new file, serialised in slices with a yield between them, so that a large
   * state does not block the event loop (timers, sockets, other feeds) while it is written.
   */
  private async writeSnapshot(records: SnapshotEntry[]): Promise<{ handle: FileHandle; bytes: number }> {
    const next = await open(`${this.path}.compacting`, 'w');
    let bytes = 0;
    try {
      for (let i = 0; i < records.length; i += COMPACTION_SLICE) {
        const text = records.slice(i, i + COMPACTION_SLICE).map((entry) => `${JSON.stringify(typeof entry === 'function' ? entry() : entry)}\n`).join('');
        await next.write(text);
        bytes += Buffer.byteLength(text);
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      await next.close();
      throw error;
    }
    return { handle: next, bytes };
  }

  /** Adds what was appended since the snapshot to the new file, then swaps it in atomically (rename). */
  private async swapIn(written: { handle: FileHandle; bytes: number }, tail: Buffer): Promise<void> {
    if (tail.length > 0) await written.handle.write(tail);
    if (this.options.fsync) await written.handle.datasync();
    await rename(`${this.path}.compacting`, this.path);
    await this.handle.close();
    this.handle = written.handle;
    this.snapshotBytes = written.bytes;
    this.bytesSinceSnapshot = tail.length;
  }
}

