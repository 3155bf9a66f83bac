import { mkdir, open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KindlingError } from '@kindling/core';

/**
 * Makes sure one backend at a time writes a data directory: two writers would interleave
 * their logs. A lock left behind by a process that died is taken over.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'LOCK');
  try {
    const handle = await open(path, 'wx', 0o600);
    await handle.writeFile(String(process.pid));
    await handle.close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && isAlive(holder)) {
      throw new KindlingError('KND_CONFLICT', `data directory ${dir} is in use by process ${holder}${holder === process.pid ? ' (this one: close the other backend first)' : ''}.`, { field: 'dataDir' });
    }
    await writeFile(path, String(process.pid));
  }
  return () => unlink(path).catch(() => undefined);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
