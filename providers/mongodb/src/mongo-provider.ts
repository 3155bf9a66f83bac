import { defineFeedKind, defineProvider, FeedError, FeedParamError, scrubbedError, SDK_VERSION, type BackoffOptions, type ProviderDefinition } from '@kindling/sdk';
import type { MongoCursor } from './change-event.js';
import type { ChangeScope, ChangeSource, ConnectChangeSource } from './change-source.js';
import { connectWithDriver } from './driver-change-source.js';
import { MongoChangeFeed } from './mongo-change-feed.js';
import { classifyMongoError, fatalReason } from './mongo-errors.js';
import { mongoChangesParams, type MongoChangesParams } from './params.js';

export interface MongoProviderOptions {
  /** How to reach MongoDB; the official driver by default. Tests pass a test double. */
  connect?: ConnectChangeSource;
  /**
   * Resumable errors in a row a feed rides out by itself (reopening from its last durable token)
   * before it reports a failure to its host, and the backoff between them.
   * @default { maxAttempts: 5, backoff: { initialMs: 250, maxMs: 5000 } }
   */
  resume?: { maxAttempts?: number; backoff?: BackoffOptions };
}

function scopeOf(params: MongoChangesParams): ChangeScope {
  const scope: ChangeScope = {};
  if (params.database) scope.database = params.database;
  if (params.collection) scope.collection = params.collection;
  return scope;
}

function scopeText(params: MongoChangesParams): string {
  if (params.database && params.collection) return `collection ${params.database}.${params.collection}`;
  return params.database ? `database ${params.database}` : 'the whole deployment';
}

const STANDALONE =
  'this server is a standalone mongod, and change streams need a replica set or a sharded cluster: ' +
  'start mongod with --replSet <name> and run rs.initiate() once (docker/mongodb/compose.yaml does both)';

/** The `mongodb` provider, reaching MongoDB through `options.connect`. */
export function createMongoProvider(options: MongoProviderOptions = {}): ProviderDefinition {
  const connect = options.connect ?? connectWithDriver;

  const changes = defineFeedKind<MongoChangesParams>({
    description: 'Fires on each change of a collection, a database or a whole deployment (a change stream), once, in order',
    pattern: 'connection',
    params: mongoChangesParams,
    secrets: ['uri'],

    async validate(params) {
      let source: ChangeSource;
      try {
        source = await connect(params.uri, scopeOf(params));
      } catch (error) {
        throw new FeedParamError('uri', `cannot connect to MongoDB: ${scrubbedError(error, params.uri).message}`);
      }
      try {
        if ((await source.topology()) === 'standalone') throw new FeedParamError('uri', STANDALONE);
        if (params.fullDocumentBeforeChange === 'required' && (await source.preImagesEnabled()) === false) {
          throw new FeedParamError(
            'fullDocumentBeforeChange',
            `collection ${params.database}.${params.collection} does not record pre-images: ` +
              `run db.runCommand({ collMod: '${params.collection}', changeStreamPreAndPostImages: { enabled: true } }), or use whenAvailable`,
          );
        }
      } catch (error) {
        if (error instanceof FeedParamError) throw error;
        throw new FeedParamError('uri', `checking the server failed: ${scrubbedError(error, params.uri).message}`);
      } finally {
        await source.close().catch(() => undefined);
      }
    },

    async start(feed, ctx) {
      const { params } = feed;
      let source: ChangeSource;
      try {
        source = await connect(params.uri, scopeOf(params));
      } catch (error) {
        const fatal = classifyMongoError(error) === 'fatal';
        const reason = fatal ? `${fatalReason(error)}: ` : '';
        throw new FeedError(`cannot connect to MongoDB: ${reason}${scrubbedError(error, params.uri).message}`, { retryable: !fatal });
      }
      const resume = options.resume ?? {};
      const follower = await MongoChangeFeed.start({
        params,
        source,
        ctx,
        ...(resume.maxAttempts !== undefined ? { maxResumeAttempts: resume.maxAttempts } : {}),
        ...(resume.backoff ? { resumeBackoff: resume.backoff } : {}),
      }).catch(async (error: unknown) => {
        await source.close().catch(() => undefined);
        throw error;
      });
      ctx.log.info({ watching: scopeText(params) }, 'following change stream');
      return {
        async stop() {
          await follower.stop();
          await source.close().catch(() => undefined);
        },
      };
    },

    async describe(feed, ctx) {
      const cursor = await ctx.cursor.get<MongoCursor>();
      return { watching: scopeText(feed.params), resumePoint: cursor ? (cursor.time ?? 'stored') : 'none yet' };
    },
  });

  return defineProvider({
    name: 'mongodb',
    sdkVersion: SDK_VERSION,
    description: 'MongoDB change streams',
    kinds: { changes },
  });
}

/** The provider with the official MongoDB driver. */
export const mongoProvider = createMongoProvider();
