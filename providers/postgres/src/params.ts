import { createHash } from 'node:crypto';
import { z } from '@kindling/sdk';
import { isTableName } from './table-name.js';

export const OPERATIONS = ['insert', 'update', 'delete', 'truncate'] as const;

/** Accepts a list as an array or as one comma-separated string (`-p tables a.b,c.d`). */
function listOf<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (value) => (typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter((part) => part.length > 0) : value),
    z.array(item),
  );
}

/** A replication slot name: PostgreSQL allows lower-case letters, digits and underscores, 63 at most. */
const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

export const pgChangesParams = z.strictObject({
  /** `postgres://user:password@host:port/database`; a secret. */
  connection: z
    .string()
    .refine((value) => /^postgres(?:ql)?:\/\/./.test(value), 'must be a postgres:// or postgresql:// connection URL'),
  /** Tables to watch, as `schema.table` (schema `public` when left out). */
  tables: listOf(z.string().refine(isTableName, 'each table must be written schema.table, e.g. public.orders'))
    .pipe(z.array(z.string()).min(1, 'name at least one table, e.g. public.orders')),
  /** Which changes fire the trigger. */
  operations: listOf(z.enum(OPERATIONS))
    .pipe(z.array(z.enum(OPERATIONS)).min(1, `name at least one of ${OPERATIONS.join(', ')}`))
    .default([...OPERATIONS]),
  /** Name of the replication slot and publication; derived from the feed id when left out. */
  slotName: z.string().regex(SLOT_NAME, 'must be 1 to 63 lower-case letters, digits or underscores').optional(),
});

export type PgChangesParams = z.output<typeof pgChangesParams>;

/**
 * The slot and publication of a feed: `kindling_<feed id>` when the id is made of characters a
 * slot name allows, otherwise a readable part of it plus a hash, so that two feeds never share.
 */
export function replicationNameFor(feedId: string, params: Pick<PgChangesParams, 'slotName'>): string {
  if (params.slotName) return params.slotName;
  const plain = `kindling_${feedId}`;
  if (SLOT_NAME.test(plain)) return plain;
  const readable = feedId.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 40);
  const hash = createHash('sha256').update(feedId).digest('hex').slice(0, 12);
  return `kindling_${readable}_${hash}`;
}
