import { describe, expect, it } from '@jest/globals';
import { trimPayload } from './trim-payload.js';

describe('trimPayload', () => {
  const payload = { action: 'created', repository: { full_name: 'octo/hello' }, small: 1, big: 'x'.repeat(5000), bigger: 'y'.repeat(8000) };

  it('drops the largest fields first, until the rest fits, and says which', () => {
    expect(trimPayload(payload, 13_500, 6000)).toEqual({
      action: 'created',
      repository: { full_name: 'octo/hello' },
      small: 1,
      big: payload.big,
      kindlingTruncated: { omitted: ['bigger'], deliveryBytes: 13_500, reason: expect.stringContaining('fetch them from the GitHub API') },
    });
    expect(Object.keys(trimPayload(payload, 13_500, 1000) ?? {})).toEqual(['action', 'repository', 'small', 'kindlingTruncated']);
  });

  it('never drops what says what happened and where; undefined when that alone is too large', () => {
    expect(trimPayload({ repository: { description: 'z'.repeat(5000) }, other: 'x'.repeat(5000) }, 10_000, 1000)).toBeUndefined();
  });
});
