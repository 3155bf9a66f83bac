import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ErrorCodes } from './errors.js';

/** The rows of the table in docs/errors.md: code → documented status and title. */
function documentedCodes(): Map<string, { status: number; title: string }> {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, { status: number; title: string }>();
  for (const match of doc.matchAll(/^\| `(KND_[A-Z_]+)` \| (\d{3}) \| ([^|]+) \|/gm)) {
    expect(rows.has(match[1]!)).toBe(false);
    rows.set(match[1]!, { status: Number(match[2]), title: match[3]!.trim() });
  }
  return rows;
}

describe('the error registry against docs/errors.md', () => {
  const documented = documentedCodes();

  it('documents every registered code, with its status and title', () => {
    for (const [code, { status, title }] of Object.entries(ErrorCodes)) {
      expect({ code, ...documented.get(code) }).toEqual({ code, status, title });
    }
  });

  it('documents no code that is not registered', () => {
    expect([...documented.keys()].filter((code) => !(code in ErrorCodes))).toEqual([]);
  });
});
