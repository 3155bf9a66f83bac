import { defineFeedKind, defineProvider, FeedError, FeedParamError, scrubbedError, SDK_VERSION } from '@kindling/sdk';
import { ChangeStream } from './change-stream.js';
import { formatLsn } from './lsn.js';
import { pgChangesParams, replicationNameFor, type PgChangesParams } from './params.js';
import { ReplicationClient } from './replication-client.js';
import { dropReplicationObjects, ensurePublication, ensureSlot, slotState, withConnection } from './replication-objects.js';
import { checkSource } from './source-checks.js';
import { parseTableName } from './table-name.js';

/** SQLSTATEs after which retrying cannot help until someone changes something. */
const UNRECOVERABLE = new Map([
  ['28P01', 'the server refused the password'],
  ['28000', 'the server refused the role'],
  ['3D000', 'the database does not exist'],
  ['42P01', 'a watched table no longer exists'],
  ['42501', 'the role lacks a privilege the feed needs'],
]);

/** A typed, scrubbed FeedError: retryable unless the server said something retrying cannot fix. */
function feedErrorOf(error: unknown, params: PgChangesParams, doing: string): FeedError {
  if (error instanceof FeedError) return error;
  const scrubbed = scrubbedError(error, params.connection);
  const code = (error as { code?: string } | null)?.code;
  const why = code ? UNRECOVERABLE.get(code) : undefined;
  const hint = code === '53400' ? ' (free a replication slot or raise max_replication_slots)' : '';
  return new FeedError(`${doing}: ${why ? `${why}: ` : ''}${scrubbed.message}${hint}`, { retryable: !why });
}

/** `postgres/changes`: a logical replication slot and publication per feed. */
export const pgChangesKind = defineFeedKind<PgChangesParams>({
  description: 'Fires on each insert, update, delete or truncate of the watched tables, once, in commit order',
  pattern: 'connection',
  params: pgChangesParams,
  secrets: ['connection'],

  async validate(params) {
    const tables = params.tables.map(parseTableName);
    let connected = false;
    try {
      await withConnection(params.connection, async (client) => {
        connected = true;
        await checkSource(client, tables, params.operations);
      });
    } catch (error) {
      if (error instanceof FeedParamError) throw error;
      const message = scrubbedError(error, params.connection).message;
      throw new FeedParamError('connection', connected ? `checking the server failed: ${message}` : `cannot connect to PostgreSQL: ${message}`);
    }
  },

  async start(feed, ctx) {
    const { params } = feed;
    const name = replicationNameFor(feed.id, params);
    const tables = params.tables.map(parseTableName);
    try {
      await withConnection(params.connection, async (client) => {
        await ensurePublication(client, name, tables, params.operations);
        await ensureSlot(client, name);
      });
    } catch (error) {
      throw feedErrorOf(error, params, `preparing slot and publication '${name}' failed`);
    }
    const startLsn = await ChangeStream.startLsnOf(ctx);
    const stream = new ChangeStream({ ctx, scrub: (error) => feedErrorOf(error, params, 'replication failed') }, startLsn);
    try {
      const link = await ReplicationClient.start(
        { connection: params.connection, slot: name, publication: name, startLsn },
        {
          onData: (payload) => stream.onData(payload),
          onKeepalive: (walEnd, replyRequested) => stream.onKeepalive(walEnd, replyRequested),
          onError: (error) => stream.onError(error),
        },
      );
      stream.attach(link);
    } catch (error) {
      await stream.stop();
      throw feedErrorOf(error, params, `starting replication from slot '${name}' failed`);
    }
    ctx.log.info({ slot: name, from: formatLsn(startLsn) }, 'streaming changes');
    return { stop: () => stream.stop() };
  },

  async teardown(feed, ctx) {
    const name = replicationNameFor(feed.id, feed.params);
    try {
      await withConnection(feed.params.connection, (client) => dropReplicationObjects(client, name, ctx.signal));
      ctx.log.info({ slot: name }, 'dropped replication slot and publication');
    } catch (error) {
      const message = scrubbedError(error, feed.params.connection).message;
      throw new FeedError(
        `could not drop replication slot and publication '${name}' (${message}); until they are dropped the server keeps WAL for them: ` +
          `SELECT pg_drop_replication_slot('${name}'); DROP PUBLICATION ${name};`,
        { retryable: false },
      );
    }
  },

  async describe(feed) {
    const name = replicationNameFor(feed.id, feed.params);
    try {
      const state = await withConnection(feed.params.connection, (client) => slotState(client, name));
      if (!state) return { slot: name, publication: name, slotExists: false };
      return {
        slot: name,
        publication: name,
        slotExists: true,
        slotActive: state.active,
        confirmedFlushLsn: state.confirmedFlushLsn,
        lagBytes: state.lagBytes,
      };
    } catch (error) {
      return { slot: name, publication: name, error: scrubbedError(error, feed.params.connection).message };
    }
  },
});

export const pgProvider = defineProvider({
  name: 'postgres',
  sdkVersion: SDK_VERSION,
  description: 'PostgreSQL change feeds through logical replication (pgoutput)',
  kinds: { changes: pgChangesKind },
});
