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

export interface FileRecordLogOptions {
  fsync: boolean;
  log: Logger;
  /** The live state as records, taken synchronously; used to compact the file. */
  snapshot: () => object[];
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

export class FileRecordLog implements RecordLog {
  private queue: Pending[] = [];
  private writing: Promise<void> | null = null;
  private failure: Error | null = null;
  private bytesSinceSnapshot = 0;
  private snapshotBytes = 0;

  private constructor(
    private readonly path: string,
    private handle: FileHandle,
    private readonly options: FileRecordLogOptions,
  ) {}

  /** Opens `path`, replacing its content with `options.snapshot()` (compaction on open). */
  static async open(path: string, options: FileRecordLogOptions): Promise<FileRecordLog> {
    await mkdir(dirname(path), { recursive: true });
    const log = new FileRecordLog(path, await open(path, 'a'), options);
    await log.compact();
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
    await this.writing;
    await this.handle.close();
  }

  private async drain(): Promise<void> {
    // Let the appends of the current turn of the event loop join the first write.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const data = Buffer.from(batch.map((p) => p.line).join(''), 'utf8');
      try {
        await this.handle.write(data);
        if (this.options.fsync) await this.handle.datasync();
        this.bytesSinceSnapshot += data.length;
        for (const p of batch) p.resolve();
        const threshold = this.options.compactAfterBytes ?? 64 * 1024 * 1024;
        if (this.bytesSinceSnapshot > Math.max(threshold, this.snapshotBytes)) await this.compact();
      } catch (error) {
        this.failure = new KindlingError('KND_STORE_UNAVAILABLE', `cannot write ${this.path}: ${(error as Error).message}`, { cause: error });
        this.options.log.error({ path: this.path, err: (error as Error).message }, 'record log write failed; no further writes are accepted');
        for (const p of [...batch, ...this.queue]) p.reject(this.failure);
        this.queue = [];
      }
    }
    this.writing = null;
  }

  /** Writes the snapshot to a new file and swaps it in, atomically (rename). */
  private async compact(): Promise<void> {
    const text = this.options.snapshot().map((record) => `${JSON.stringify(record)}\n`).join('');
    const temporary = `${this.path}.compacting`;
    const next = await open(temporary, 'w');
    try {
      await next.write(text);
      await next.datasync();
    } catch (error) {
      await next.close();
      throw error;
    }
    await rename(temporary, this.path);
    await this.handle.close();
    this.handle = next;
    this.snapshotBytes = Buffer.byteLength(text);
    this.bytesSinceSnapshot = 0;
  }
}
