import { describe, expect, it } from '@jest/globals';
import { assertEntityName, decodeToken, encodeToken, parseQualifiedName } from './names.js';

describe('entity names', () => {
  it('accepts the names OpenWhisk accepts, including dots, @ and inner spaces', () => {
    for (const name of ['hello', 'a', 'my.action', 'john@example.com_dev', 'with space', 'x-1']) {
      expect(assertEntityName(name)).toBe(name);
    }
  });

  it('refuses names that start with punctuation, end with a space, or hold wildcards', () => {
    for (const name of ['', ' lead', 'trail ', '*', 'a>b', 'a*b', '.dot']) {
      expect(() => assertEntityName(name)).toThrow(/name/);
    }
  });

  it('encodes any name into one subject token and back', () => {
    for (const name of ['a.b', 'with space', 'a>b*c', 'ünï©ødé', 'plain_name-1']) {
      const token = encodeToken(name);
      expect(token).toMatch(/^[-_=A-Za-z0-9]+$/);
      expect(decodeToken(token)).toBe(name);
    }
    expect(encodeToken('a.b')).not.toBe(encodeToken('a_b'));
  });

  it('resolves _ and missing namespaces to the caller', () => {
    expect(parseQualifiedName('/_/t', 'guest')).toEqual({ namespace: 'guest', name: 't' });
    expect(parseQualifiedName('t', 'guest')).toEqual({ namespace: 'guest', name: 't' });
    expect(parseQualifiedName('/other/t', 'guest')).toEqual({ namespace: 'other', name: 't' });
  });
});
