import type { Command } from 'commander';
import { integerIn } from '../option-parsers.js';

export interface ListFlags {
  limit?: number;
  skip?: number;
}

/** `--limit` and `--skip`, as the API's list endpoints take them (limit 0 means the maximum, 200). */
export function addListOptions(command: Command): Command {
  return command
    .option('-l, --limit <n>', 'list at most this many (API default 30, at most 200)', integerIn(0, 200))
    .option('-s, --skip <n>', 'skip this many first', integerIn(0));
}
