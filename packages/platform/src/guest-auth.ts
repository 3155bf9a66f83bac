import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateAuthKey, parseAuthKey } from '@kindling/api';

/**
 * The guest namespace's `uuid:key`: the one given with `--auth`, else the one kept in the data
 * directory, else a new one, kept there (readable by its owner only) for the next start.
 */
export async function resolveGuestAuth(dataDir: string, given?: string): Promise<string> {
  const file = join(dataDir, 'guest.auth');
  if (given) {
    parseAuthKey(given, '--auth');
    await writeFile(file, `${given}\n`, { mode: 0o600 });
    return given;
  }
  try {
    const kept = (await readFile(file, 'utf8')).trim();
    parseAuthKey(kept, file);
    return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const fresh = generateAuthKey();
  await writeFile(file, `${fresh}\n`, { mode: 0o600 });
  return fresh;
}
