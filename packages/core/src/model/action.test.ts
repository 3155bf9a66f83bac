import { describe, expect, it } from '@jest/globals';
import { KindlingError } from '../errors.js';
import { parseWith } from '../validation.js';
import { actionPutSchema } from './action.js';

describe('action limits', () => {
  it('refuses a limits.concurrency of 0, 501 or "x", naming the field', () => {
    for (const concurrency of [0, 501, 'x', 2.5]) {
      let refused: unknown;
      try {
        parseWith(actionPutSchema, { exec: { kind: 'nodejs:20', code: 'function main() {}' }, limits: { concurrency } });
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(KindlingError);
      expect((refused as KindlingError).message).toMatch(/^'limits\.concurrency': /);
      expect((refused as KindlingError).field).toBe('limits.concurrency');
    }
    expect(parseWith(actionPutSchema, { limits: { concurrency: 500 } }).limits).toEqual({ concurrency: 500 });
  });
});
