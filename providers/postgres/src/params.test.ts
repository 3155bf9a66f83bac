import { describe, expect, it } from '@jest/globals';
import { connectionSecrets, parseWith, scrubbedError } from '@kindling/sdk';
import { pgChangesParams, replicationNameFor } from './params.js';
import { walLevelProblem } from './source-checks.js';
import { parseTableName, quoteTableName } from './table-name.js';

const parse = (input: unknown) => parseWith(pgChangesParams, input, { code: 'KND_BAD_FEED_PARAMS' });

describe('postgres/changes parameters', () => {
  it('takes lists as arrays or as the comma-separated strings the CLI sends, and defaults to every operation', () => {
    expect(parse({ connection: 'postgres://u:p@localhost/shop', tables: 'public.orders, public.payments' })).toEqual({
      connection: 'postgres://u:p@localhost/shop',
      tables: ['public.orders', 'public.payments'],
      operations: ['insert', 'update', 'delete', 'truncate'],
    });
    expect(parse({ connection: 'postgresql://h/db', tables: ['orders'], operations: 'insert,update' }).operations).toEqual(['insert', 'update']);
  });

  it('names the field of each mistake, without echoing the connection string', () => {
    expect(() => parse({ connection: 'mysql://root:hunter22@db/x', tables: 'a.b' })).toThrow(/'connection': must be a postgres:\/\/ or postgresql:\/\/ connection URL/);
    try {
      parse({ connection: 'mysql://root:hunter22@db/x', tables: 'a.b' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter22');
    }
    expect(() => parse({ connection: 'postgres://h/db', tables: '' })).toThrow(/'tables': name at least one table/);
    expect(() => parse({ connection: 'postgres://h/db', tables: 'a.b.c' })).toThrow(/'tables.0': each table must be written schema.table/);
    expect(() => parse({ connection: 'postgres://h/db', tables: 'a.b', operations: 'insert,upsert' })).toThrow(/'operations.1'/);
    expect(() => parse({ connection: 'postgres://h/db', tables: 'a.b', slotName: 'Bad-Name' })).toThrow(/'slotName'/);
    expect(() => parse({ connection: 'postgres://h/db', tables: 'a.b', tabels: 'x' })).toThrow(/unknown field 'tabels'/);
  });
});

describe('table names', () => {
  it('reads them as PostgreSQL does: plain names fold to lower case, quoted ones stay exact, schema defaults to public', () => {
    expect(parseTableName('Shop.Orders')).toEqual({ schema: 'shop', name: 'orders' });
    expect(parseTableName('"Shop"."Order ""Lines"""')).toEqual({ schema: 'Shop', name: 'Order "Lines"' });
    expect(parseTableName('orders')).toEqual({ schema: 'public', name: 'orders' });
    expect(quoteTableName({ schema: 'Shop', name: 'a"b' })).toBe('"Shop"."a""b"');
  });
});

describe('replication slot and publication names', () => {
  it('derives a valid, distinct identifier from any feed id, unless one is given', () => {
    expect(replicationNameFor('3fa9c2d1', {})).toBe('kindling_3fa9c2d1');
    const odd = replicationNameFor('Guest/Orders-Feed.1', {});
    expect(odd).toMatch(/^kindling_guest_orders_feed_1_[0-9a-f]{12}$/);
    expect(replicationNameFor('guest/orders-feed.1', {})).not.toBe(odd);
    expect(replicationNameFor('x'.repeat(200), {}).length).toBeLessThanOrEqual(63);
    expect(replicationNameFor('anything', { slotName: 'orders_cdc' })).toBe('orders_cdc');
  });
});

describe('wal_level check', () => {
  it('tells the user exactly what to change when the server is not on logical WAL', () => {
    expect(walLevelProblem('logical')).toBeUndefined();
    expect(walLevelProblem('replica')).toMatch(/wal_level is 'replica'.*ALTER SYSTEM SET wal_level = logical.*restart PostgreSQL/);
  });
});

describe('connection secrets', () => {
  it('scrubs the connection string, the password and the user info, encoded or not, from driver messages', () => {
    const connection = 'postgres://app:p%40ss-w0rd@db.internal:5432/shop';
    expect(connectionSecrets(connection)).toEqual(expect.arrayContaining([connection, 'p%40ss-w0rd', 'p@ss-w0rd']));
    const error = scrubbedError(Object.assign(new Error(`cannot reach ${connection}; password p@ss-w0rd rejected`), { code: '28P01' }), connection);
    expect(error.message).toBe('cannot reach [redacted]; password [redacted] rejected');
    expect((error as Error & { code?: string }).code).toBe('28P01');
  });
});
