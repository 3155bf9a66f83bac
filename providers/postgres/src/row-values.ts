import pg from 'pg';
import type { ColumnInfo, TupleValue } from './pgoutput-decoder.js';

export type Row = Record<string, unknown>;

/**
 * Types whose text form becomes a JSON value of its own kind: booleans, integers that fit a
 * JavaScript number, floats, JSON, and arrays of these (and of text). Every other type stays the
 * text PostgreSQL prints — `bigint` and `numeric` because a JSON number would lose precision,
 * dates and times because parsing them would bend them to this process's time zone, `bytea` as
 * its `\x…` hex form.
 */
const PARSED_TYPES = new Set([
  16, // bool
  21, // int2
  23, // int4
  26, // oid
  700, // float4
  701, // float8
  114, // json
  3802, // jsonb
  1000, // bool[]
  1005, // int2[]
  1007, // int4[]
  1021, // float4[]
  1022, // float8[]
  199, // json[]
  3807, // jsonb[]
  1009, // text[]
  1015, // varchar[]
]);

export function columnValue(typeOid: number, text: string): unknown {
  if (!PARSED_TYPES.has(typeOid)) return text;
  return pg.types.getTypeParser(typeOid, 'text')(text) as unknown;
}

export interface RowImage {
  row: Row;
  /** Columns whose TOASTed value did not change: PostgreSQL does not send them again. */
  unchanged: string[];
}

/** Turns a pgoutput tuple into a row keyed by column name. */
export function rowOf(columns: readonly ColumnInfo[], values: readonly TupleValue[], onlyKeys = false): RowImage {
  const row: Row = {};
  const unchanged: string[] = [];
  columns.forEach((column, i) => {
    const value = values[i];
    if (!value || (onlyKeys && !column.isKey)) return;
    if (value.kind === 'unchanged') unchanged.push(column.name);
    else row[column.name] = value.kind === 'null' ? null : columnValue(column.typeOid, value.text);
  });
  return { row, unchanged };
}
