/**
 * What the feed needs of MongoDB, as a small interface over the driver's `watch()`: the feed's
 * logic (resume tokens, retries, invalidation, history loss) is written against this, so that it
 * can be tested against a test double as well as against a real replica set.
 */

/** A change stream resume token: the `_id` of a change event (`{ _data: '8263…' }`). */
export type ResumeToken = Record<string, unknown>;

/** A change event as the server sends it (`operationType`, `ns`, `documentKey`, …). */
export interface ChangeDocument {
  _id: ResumeToken;
  operationType: string;
  ns?: { db: string; coll?: string };
  /** For `rename`: the new namespace. */
  to?: { db: string; coll?: string };
  wallTime?: Date;
  clusterTime?: { getHighBits(): number } | { t: number };
  [field: string]: unknown;
}

export interface WatchOptions {
  /** The aggregation stages after `$changeStream`. */
  pipeline: Record<string, unknown>[];
  /** Resume after this change (also after an `invalidate`); from now when absent. */
  startAfter?: ResumeToken;
  fullDocument?: string;
  fullDocumentBeforeChange?: string;
}

export interface ChangeCursor {
  /**
   * The next change, or null when none came within the server's wait. Rejects when the stream
   * fails in a way the driver did not recover from by itself.
   */
  tryNext(): Promise<ChangeDocument | null>;
  /** The token to resume after the last change returned, or the server's post-batch token when idle. */
  readonly resumeToken: ResumeToken | undefined | null;
  readonly closed: boolean;
  close(): Promise<void>;
}

export type Topology = 'replicaSet' | 'sharded' | 'standalone';

/** One connection to a deployment, scoped to what a feed watches (deployment, database or collection). */
export interface ChangeSource {
  watch(options: WatchOptions): ChangeCursor;
  /** What kind of deployment this is: change streams need a replica set or a sharded cluster. */
  topology(): Promise<Topology>;
  /** Whether the watched collection records pre-images (undefined when no collection is watched or it does not exist yet). */
  preImagesEnabled(): Promise<boolean | undefined>;
  close(): Promise<void>;
}

export interface ChangeScope {
  database?: string;
  collection?: string;
}

/** Opens a source for a feed's URI and scope. */
export type ConnectChangeSource = (uri: string, scope: ChangeScope) => Promise<ChangeSource>;
