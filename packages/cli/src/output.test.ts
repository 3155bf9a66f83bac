import { describe, expect, it } from '@jest/globals';
import { formatDuration, formatTime, Output, renderRecord, renderTable } from './output.js';
import { captureIo } from './test-support/fake-api.js';

describe('renderTable', () => {
  it('aligns columns under upper-case headers, two spaces apart, without trailing blanks', () => {
    const text = renderTable(
      [
        { header: 'name', value: (r: { name: string; kind: string }) => r.name },
        { header: 'kind', value: (r) => r.kind },
      ],
      [
        { name: 'hello', kind: 'nodejs:20' },
        { name: 'a-much-longer-name', kind: 'sequence' },
      ],
    );
    expect(text).toBe(['NAME                KIND', 'hello               nodejs:20', 'a-much-longer-name  sequence', ''].join('\n'));
  });

  it('keeps every row on one line and cuts cells beyond their width', () => {
    const text = renderTable([{ header: 'd', value: (r: string) => r, maxWidth: 9 }], ['two\nlines', 'far too long to fit']);
    expect(text.split('\n')).toEqual(['D', 'two lines', 'far too …', '']);
  });

  it('prints the header alone for an empty list', () => {
    expect(renderTable([{ header: 'name', value: (r: string) => r }], [])).toBe('NAME\n');
  });
});

describe('renderRecord', () => {
  it('flattens one level, shows parameters as key=value and times as ISO dates', () => {
    const text = renderRecord({
      name: 'hello',
      exec: { kind: 'nodejs:20', code: 'x' },
      parameters: [{ key: 'name', value: 'World' }, { key: 'n', value: 2 }],
      updated: 1700000000000,
      publish: false,
    }, ['exec.code']);
    expect(text).toBe(
      [
        'name        hello',
        'exec.kind   nodejs:20',
        'parameters  name=World, n=2',
        'updated     2023-11-14T22:13:20Z',
        'publish     false',
        '',
      ].join('\n'),
    );
  });
});

describe('formatting', () => {
  it('formats times and durations, blank when absent', () => {
    expect(formatTime(0)).toBe('');
    expect(formatTime(undefined)).toBe('');
    expect(formatTime(1700000000123)).toBe('2023-11-14T22:13:20Z');
    expect(formatDuration(12)).toBe('12ms');
    expect(formatDuration(1500)).toBe('1.50s');
    expect(formatDuration(undefined)).toBe('');
  });
});

describe('Output', () => {
  const rows = [{ name: 'a' }];
  const columns = [{ header: 'name', value: (r: { name: string }) => r.name }];

  it('prints tables and ok lines for people', () => {
    const { io, out } = captureIo();
    const output = new Output(io, false);
    output.list(rows, columns);
    output.done('created action a', { name: 'a' });
    expect(out()).toBe('NAME\na\nok: created action a\n');
  });

  it('prints the raw JSON for scripts', () => {
    const { io, out } = captureIo();
    const output = new Output(io, true);
    output.list(rows, columns);
    output.done('created action a', { name: 'a', version: '0.0.1' });
    expect(out()).toBe(`${JSON.stringify(rows, null, 2)}\n${JSON.stringify({ name: 'a', version: '0.0.1' }, null, 2)}\n`);
  });
});
