import { afterAll, beforeAll, it } from '@jest/globals';
import { randomId } from '@kindling/sdk';
import { describeProviderConformance } from '@kindling/provider-testkit';
import pg from 'pg';
import { describeWithService } from '@kindling/test-support';
import { pgProvider } from './pg-provider.js';
import { dropReplicationLeftovers, openTestSchema, PG_URL } from './testing/pg-fixtures.js';

/**
 * The postgres provider against the conformance kit, on the real PostgreSQL (wal_level=logical).
 * An event is a row inserted in a table of the test's own schema, carrying the kit's token; the
 * connection URL holds a password (trust auth ignores it) so that the kit can look for it in logs.
 */
const describePg = await describeWithService('PostgreSQL', '127.0.0.1', 5432);

describePg('postgres provider', () => {
  let schema: string;
  let sql: pg.Client;
  let dropSchema: () => Promise<void>;
  const connection = (() => {
    const url = new URL(PG_URL);
    url.password = `kit-pw-${randomId(6)}`;
    return url.toString();
  })();

  beforeAll(async () => {
    ({ schema, sql, drop: dropSchema } = await openTestSchema());
    await sql.query(`CREATE TABLE ${schema}.readings (id serial PRIMARY KEY, token text NOT NULL, celsius numeric(4,1))`);
  });

  afterAll(async () => {
    // Every scenario deletes its feed, whose teardown drops its slot; this catches a scenario that stopped short.
    const left = await sql.query<{ slot_name: string }>("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'kindling_kit%' AND NOT active");
    await dropReplicationLeftovers(left.rows.map((row) => row.slot_name));
    await dropSchema();
  });

  describeProviderConformance(
    {
      provider: pgProvider,
      kind: 'changes',
      params: () => ({ connection, tables: [`${schema}.readings`], operations: ['insert'] }),
      source: {
        async emit({ token }) {
          await sql.query(`INSERT INTO ${schema}.readings (token, celsius) VALUES ($1, 21.5)`, [token]);
        },
      },
    },
    { describe: describePg, it, beforeAll },
  );
});
