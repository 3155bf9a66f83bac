import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@kindling/core';
import { FileRecordLog, readRecords } from './record-log.js';

interface SetRecord {
  k: string;
  v: number;
}

describe('FileRecordLog', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'kindling-log-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('compacts while appends keep coming, and replaying the file gives the live state', async () => {
    const path = join(dir, 'state.log');
    const state = new Map<string, number>();
    const snapshot = () => [...state].map(([k, v]): SetRecord => ({ k, v }));
    const log = await FileRecordLog.open(path, { fsync: false, log: silentLogger(), snapshot, compactAfterBytes: 2_000 });
    let appendedBytes = 0;
    const writes: Promise<void>[] = [];
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 40; i++) {
        const record = { k: `key-${i}`, v: round * 100 + i };
        state.set(record.k, record.v);
        appendedBytes += JSON.stringify(record).length + 1;
        writes.push(log.append(record));
      }
      await new Promise((resolve) => setImmediate(resolve)); // let writes and compactions interleave
    }
    await Promise.all(writes);
    await log.close();

    expect((await stat(path)).size).toBeLessThan(appendedBytes / 4);
    const replayed = new Map<string, number>();
    for (const record of (await readRecords(path, silentLogger())) as SetRecord[]) replayed.set(record.k, record.v);
    expect(replayed).toEqual(state);
  });

  it('reads nothing from a file that does not exist, and refuses a corrupt line that is not the last', async () => {
    expect(await readRecords(join(dir, 'none.log'), silentLogger())).toEqual([]);
    const path = join(dir, 'bad.log');
    const log = await FileRecordLog.open(path, { fsync: true, log: silentLogger(), snapshot: () => [{ ok: 1 }, { ok: 2 }] });
    await log.close();
    await writeFile(path, '{"ok":1}\n{"ok"\n{"ok":3}\n');
    await expect(readRecords(path, silentLogger())).rejects.toMatchObject({ code: 'KND_STORE_UNAVAILABLE' });
  });
});
