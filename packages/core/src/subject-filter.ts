import { KindlingError } from './errors.js';

/**
 * NATS subject rules, so that the embedded bus accepts and routes exactly what JetStream
 * would: tokens separated by dots, `*` matching one token and `>` the rest (last token only).
 */
const ILLEGAL_IN_TOKEN = /[\s*>]/u;

function tokensOf(subject: string, field: string, wildcards: boolean): string[] {
  const tokens = subject.split('.');
  tokens.forEach((token, i) => {
    const isWildcard = wildcards && (token === '*' || (token === '>' && i === tokens.length - 1));
    if (token === '' || (!isWildcard && ILLEGAL_IN_TOKEN.test(token))) {
      throw new KindlingError('KND_VALIDATION', `'${field}' ${JSON.stringify(subject)} is not a valid subject${wildcards ? ' filter' : ''}: token ${i + 1} ${token === '' ? 'is empty' : `'${token}' contains a space or a wildcard`}.`, { field });
    }
  });
  return tokens;
}

/** A subject to publish to: no wildcards. */
export function assertSubject(subject: string, field = 'subject'): void {
  tokensOf(subject, field, false);
}

/** A subscription filter: wildcards allowed. */
export function assertFilter(filter: string, field = 'filter'): void {
  tokensOf(filter, field, true);
}

export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

/** Whether every subject `inner` matches is also matched by `outer`. */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('.');
  const n = inner.split('.');
  for (let i = 0; i < o.length; i++) {
    if (o[i] === '>') return n.length > i;
    if (i >= n.length || n[i] === '>') return false;
    if (o[i] !== '*' && (n[i] === '*' || o[i] !== n[i])) return false;
  }
  return o.length === n.length;
}

/** Whether some subject is matched by both filters. */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === '>' || y[i] === '>') return i < x.length && i < y.length;
    if (x[i] === undefined || y[i] === undefined) return false;
    if (x[i] !== '*' && y[i] !== '*' && x[i] !== y[i]) return false;
  }
  return true;
}
