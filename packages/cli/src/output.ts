import { isRecord } from './api-client.js';

/** Where a command writes; a test passes its own to capture the text. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface Column<T> {
  header: string;
  value(row: T): string;
  /** Longer cells are cut with `…`; free text such as descriptions should set it. */
  maxWidth?: number;
}

const SEPARATOR = '  ';
const MAX_CELL = 100;

/** An aligned text table: a header row, then one row per item; cells never span lines. */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row), column.maxWidth)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join(SEPARATOR).trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/**
 * A record as two aligned columns, field and value. Nested objects are flattened one level
 * (`limits.timeout`), parameter lists shown as `key=value`, times as ISO dates.
 */
export function renderRecord(record: Record<string, unknown>, omit: readonly string[] = []): string {
  const rows: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(record)) {
    if (value === undefined || omit.includes(key)) continue;
    if (isRecord(value) && Object.keys(value).length > 0) {
      for (const [inner, innerValue] of Object.entries(value)) {
        const path = `${key}.${inner}`;
        if (innerValue !== undefined && !omit.includes(path)) rows.push([path, formatField(inner, innerValue)]);
      }
    } else {
      rows.push([key, formatField(key, value)]);
    }
  }
  const width = Math.max(0, ...rows.map(([field]) => field.length));
  return rows.map(([field, value]) => `${field.padEnd(width)}${SEPARATOR}${value}`.trimEnd()).join('\n') + '\n';
}

const TIME_FIELDS = new Set(['updated', 'start', 'end', 'since']);

function formatField(key: string, value: unknown): string {
  if (typeof value === 'number' && (TIME_FIELDS.has(key) || key.endsWith('At')) && value > 1e11) return formatTime(value);
  if (isKeyValueList(value)) return value.map(({ key: k, value: v }) => `${k}=${compact(v)}`).join(', ');
  return cell(typeof value === 'string' ? value : compact(value));
}

function isKeyValueList(value: unknown): value is Array<{ key: string; value: unknown }> {
  return Array.isArray(value) && value.length > 0 && value.every((kv) => isRecord(kv) && typeof kv.key === 'string');
}

function compact(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

/** One line, bounded: control characters become spaces, long text is cut. */
function cell(text: string, maxWidth = MAX_CELL): string {
  // Control characters are exactly what must not reach a terminal table.
  // eslint-disable-next-line no-control-regex
  const oneLine = text.replace(/[\u0000-\u001f]+/g, ' ');
  return oneLine.length > maxWidth ? `${oneLine.slice(0, maxWidth - 1)}…` : oneLine;
}

/** Epoch ms → `2024-05-01T12:00:03Z` (UTC, to the second); blank when absent. */
export function formatTime(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return '';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds → `12ms`, `1.5s`; blank when absent. */
export function formatDuration(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '';
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
}

/**
 * What a command prints. By default text for people (tables, `ok:` lines); with `--json`
 * the API's JSON as it came, pretty-printed, for scripts.
 */
export class Output {
  constructor(
    private readonly io: Io,
    readonly json: boolean,
  ) {}

  list<T>(rows: readonly T[], columns: readonly Column<T>[]): void {
    this.io.stdout(this.json ? pretty(rows) : renderTable(columns, rows));
  }

  record(value: unknown, omit: readonly string[] = []): void {
    this.io.stdout(this.json || !isRecord(value) ? pretty(value) : renderRecord(value, omit));
  }

  /** A change done: `ok: <message>` for people, the API's answer for scripts. */
  done(message: string, raw: unknown): void {
    this.io.stdout(this.json ? pretty(raw ?? {}) : `ok: ${message}\n`);
  }

  /** Data that is JSON for people too (an action's result). */
  value(value: unknown): void {
    this.io.stdout(pretty(value));
  }

  /** Plain lines for people (log lines); `raw` instead with `--json`. */
  lines(lines: readonly string[], raw: unknown): void {
    this.io.stdout(this.json ? pretty(raw) : lines.map((l) => `${l}\n`).join(''));
  }

  warn(message: string): void {
    this.io.stderr(`warning: ${message}\n`);
  }
}

export function pretty(value: unknown): string {
  return `${JSON.stringify(value, null, 2) ?? 'null'}\n`;
}
