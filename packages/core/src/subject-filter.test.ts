import { describe, expect, it } from '@jest/globals';
import { assertFilter, assertSubject, filterCovers, filtersOverlap, subjectMatches } from './subject-filter.js';

describe('subject filters', () => {
  it('matches * to one token and > to one or more', () => {
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*.c', 'a.b.d')).toBe(false);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('a.b', 'a.b')).toBe(true);
  });

  it('tells whether one filter covers another', () => {
    expect(filterCovers('kindling.events.>', 'kindling.events.guest.*')).toBe(true);
    expect(filterCovers('kindling.events.>', 'kindling.events')).toBe(false);
    expect(filterCovers('kindling.events.*', 'kindling.events.>')).toBe(false);
    expect(filterCovers('a.*.c', 'a.b.c')).toBe(true);
    expect(filterCovers('a.b.c', 'a.*.c')).toBe(false);
  });

  it('tells whether two filters share a subject', () => {
    expect(filtersOverlap('kindling.invoke.>', 'kindling.invoke.guest.x')).toBe(true);
    expect(filtersOverlap('kindling.invoke.a.*', 'kindling.invoke.*.x')).toBe(true);
    expect(filtersOverlap('kindling.invoke.a.*', 'kindling.invoke.b.*')).toBe(false);
    expect(filtersOverlap('a.>', 'a')).toBe(false);
    expect(filtersOverlap('a.*', 'a.b.c')).toBe(false);
  });

  it('refuses empty tokens, spaces, and wildcards where a subject is expected', () => {
    expect(() => assertSubject('a..b')).toThrow(/token 2 is empty/);
    expect(() => assertSubject('a.b c')).toThrow(/contains a space/);
    expect(() => assertSubject('a.*')).toThrow(expect.objectContaining({ code: 'KND_VALIDATION', field: 'subject' }));
    expect(() => assertFilter('a.>.b')).toThrow(/not a valid subject filter/);
    expect(() => assertFilter('a.*.>')).not.toThrow();
  });
});
