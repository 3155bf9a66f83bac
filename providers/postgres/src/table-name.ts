import pg from 'pg';

export interface TableName {
  schema: string;
  name: string;
}

// An identifier as PostgreSQL reads it: plain (folded to lower case) or double-quoted (exact,
// with "" for a quote inside).
const PART = String.raw`(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")`;
const QUALIFIED = new RegExp(`^(?:(${PART})\\.)?(${PART})$`);

/** Whether `text` is `table` or `schema.table` as a user would write it in SQL. */
export function isTableName(text: string): boolean {
  return QUALIFIED.test(text.trim());
}

/** Parses `schema.table` (schema defaults to `public`) the way PostgreSQL would. */
export function parseTableName(text: string): TableName {
  const match = QUALIFIED.exec(text.trim());
  if (!match) throw new TypeError(`not a table name: ${JSON.stringify(text)}`);
  return { schema: match[1] ? unquote(match[1]) : 'public', name: unquote(match[2] ?? '') };
}

/** `"schema"."table"`, safe to put in SQL. */
export function quoteTableName(table: TableName): string {
  return `${pg.escapeIdentifier(table.schema)}.${pg.escapeIdentifier(table.name)}`;
}

/** `schema.table` as shown to users (the names as stored, unquoted). */
export function displayTableName(table: TableName): string {
  return `${table.schema}.${table.name}`;
}

function unquote(part: string): string {
  return part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part.toLowerCase();
}
