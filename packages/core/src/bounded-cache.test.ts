import { describe, expect, it } from '@jest/globals';
import { BoundedCache } from './bounded-cache.js';

describe('BoundedCache', () => {
  it('evicts the entry set longest ago once full, and never holds more than its capacity', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1).set('b', 2).set('c', 3);
    expect(cache.size).toBe(2);
    expect(cache.has('a')).toBe(false);
    expect([cache.get('b'), cache.get('c')]).toEqual([2, 3]);
  });

  it('replaces the value of a key it holds without evicting anything', () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set('a', 1).set('b', 2).set('a', 10);
    expect([cache.get('a'), cache.get('b'), cache.size]).toEqual([10, 2, 2]);
  });

  it('makes room again when an entry is deleted', () => {
    const cache = new BoundedCache<string, number>(1);
    cache.set('a', 1);
    expect(cache.delete('a')).toBe(true);
    cache.set('b', 2);
    expect([cache.get('b'), cache.size]).toEqual([2, 1]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new BoundedCache(0)).toThrow('capacity must be a positive integer, got 0');
    expect(() => new BoundedCache(1.5)).toThrow(RangeError);
  });
});
