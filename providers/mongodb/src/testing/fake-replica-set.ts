import type { ChangeCursor, ChangeDocument, ChangeScope, ChangeSource, ConnectChangeSource, ResumeToken, Topology, WatchOptions } from '../change-source.js';

/**
 * A TEST DOUBLE of a MongoDB replica set's change streams, because no MongoDB server can run on
 * the machines this project is built on. It models what the feed's logic depends on:
 * - an oplog of change events, each with a resume token that orders them;
 * - streams scoped to a collection, a database or the whole deployment, that start from now or
 *   `startAfter` a token, filter by `operationType` like the feed's first `$match`, return null
 *   when idle with a post-batch token, and end after an `invalidate`;
 * - `drop`/`rename`/`dropDatabase` followed by `invalidate` for the streams they end;
 * - errors the driver would surface: resumable ones (network), and `ChangeStreamHistoryLost` when
 *   resuming from a token that has fallen off the oplog.
 * The real-server suite (`mongo-feed.integration.test.ts`, run when MONGODB_URL is set) checks the
 * same scenarios against MongoDB itself.
 */
/** A change before the replica set gives it its resume token (`Omit` would drop the named fields of an indexed type). */
type UnsentChange = Pick<ChangeDocument, 'operationType' | 'ns' | 'to' | 'wallTime' | 'clusterTime'> & Record<string, unknown>;

interface Entry {
  seq: number;
  change: UnsentChange;
  /** For an `invalidate`: the streams it ends. */
  ends?: (scope: ChangeScope) => boolean;
}

export const mongoErrors = {
  network(): Error {
    return Object.assign(new Error('connection 3 to 127.0.0.1:27017 closed'), { name: 'MongoNetworkError' });
  },
  historyLost(): Error {
    return Object.assign(new Error('Resume of change stream was not possible, as the resume point may no longer be in the oplog.'), {
      name: 'MongoServerError',
      code: 286,
      codeName: 'ChangeStreamHistoryLost',
    });
  },
  unauthorized(uri: string): Error {
    return Object.assign(new Error(`not authorized on shop to execute command { aggregate: 1 } (connecting with ${uri})`), {
      name: 'MongoServerError',
      code: 13,
      codeName: 'Unauthorized',
    });
  },
};

export class FakeReplicaSet {
  topologyKind: Topology = 'replicaSet';
  preImages: boolean | undefined = undefined;
  /** Thrown by the next connect, when set. */
  connectError: Error | undefined;
  /** Every `watch` the feed made, in order. */
  readonly watches: Array<WatchOptions & { scope: ChangeScope }> = [];
  private readonly oplog: Entry[] = [];
  private seq = 0;
  /** Entries before this sequence have fallen off the oplog. */
  private oldest = 1;
  private readonly failures: Error[] = [];
  private readonly waiters = new Set<() => void>();
  private nextId = 1;

  readonly connect: ConnectChangeSource = async (_uri, scope) => {
    if (this.connectError) throw this.connectError;
    return this.source(scope);
  };

  insert(db: string, coll: string, fields: Record<string, unknown> = {}): number {
    const doc = { _id: this.nextId++, ...fields };
    this.append({ operationType: 'insert', ns: { db, coll }, documentKey: { _id: doc._id }, fullDocument: doc });
    return doc._id;
  }

  update(db: string, coll: string, id: number, set: Record<string, unknown>): void {
    this.append({ operationType: 'update', ns: { db, coll }, documentKey: { _id: id }, updateDescription: { updatedFields: set, removedFields: [] } });
  }

  delete(db: string, coll: string, id: number): void {
    this.append({ operationType: 'delete', ns: { db, coll }, documentKey: { _id: id } });
  }

  dropCollection(db: string, coll: string): void {
    this.append({ operationType: 'drop', ns: { db, coll } });
    this.append({ operationType: 'invalidate' }, (scope) => scope.database === db && scope.collection === coll);
  }

  renameCollection(db: string, coll: string, to: string): void {
    this.append({ operationType: 'rename', ns: { db, coll }, to: { db, coll: to } });
    this.append({ operationType: 'invalidate' }, (scope) => scope.database === db && scope.collection === coll);
  }

  /** Everything in the oplog so far falls off it, as after an outage longer than its window. */
  loseHistory(): void {
    this.oldest = this.seq + 1;
  }

  /** The next reads of open streams fail with these errors, one each. */
  failReads(...errors: Error[]): void {
    this.failures.push(...errors);
    this.wake();
  }

  tokenOf(seq: number): ResumeToken {
    return { _data: seq.toString(16).toUpperCase().padStart(16, '0') };
  }

  private seqOf(token: ResumeToken): number {
    return Number.parseInt(String(token._data), 16);
  }

  private append(change: Entry['change'], ends?: Entry['ends']): void {
    const entry: Entry = { seq: ++this.seq, change: { ...change, wallTime: new Date(), clusterTime: { t: Math.floor(Date.now() / 1000) } } };
    if (ends) entry.ends = ends;
    this.oplog.push(entry);
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }

  private visible(entry: Entry, scope: ChangeScope, operationTypes: Set<string> | undefined): boolean {
    if (entry.change.operationType === 'invalidate') return entry.ends?.(scope) ?? false;
    if (operationTypes && !operationTypes.has(entry.change.operationType)) return false;
    const ns = entry.change.ns;
    if (!ns) return false;
    if (scope.database && ns.db !== scope.database) return false;
    if (scope.collection && ns.coll !== scope.collection) return false;
    return true;
  }

  private source(scope: ChangeScope): ChangeSource {
    let closed = false;
    return {
      watch: (options) => {
        if (closed) throw new Error('the source is closed');
        this.watches.push({ ...options, scope });
        return this.cursor(scope, options);
      },
      topology: async () => this.topologyKind,
      preImagesEnabled: async () => (scope.collection ? this.preImages : undefined),
      close: async () => {
        closed = true;
      },
    };
  }

  private cursor(scope: ChangeScope, options: WatchOptions): ChangeCursor {
    const firstMatch = (options.pipeline[0]?.$match as { operationType?: { $in?: string[] } } | undefined)?.operationType?.$in;
    const operationTypes = firstMatch ? new Set(firstMatch) : undefined;
    let position: number | undefined;
    let token: ResumeToken | undefined;
    let closed = false;
    return {
      get resumeToken() {
        return token;
      },
      get closed() {
        return closed;
      },
      close: async () => {
        closed = true;
        this.wake();
      },
      tryNext: async () => {
        if (closed) throw Object.assign(new Error('ChangeStream is closed'), { name: 'MongoAPIError' });
        const failure = this.failures.shift();
        if (failure) throw failure;
        if (position === undefined) {
          if (options.startAfter) {
            const after = this.seqOf(options.startAfter);
            // The changes after the token must all still be in the oplog.
            if (after + 1 < this.oldest) throw mongoErrors.historyLost();
            position = after;
          } else {
            position = this.seq;
          }
        }
        const from = position;
        let entry = this.oplog.find((e) => e.seq > from && this.visible(e, scope, operationTypes));
        if (!entry) {
          // The server's await: a short wait for a new entry, then an empty batch.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 20);
            this.waiters.add(() => {
              clearTimeout(timer);
              resolve();
            });
          });
          if (closed) throw Object.assign(new Error('ChangeStream is closed'), { name: 'MongoAPIError' });
          entry = this.oplog.find((e) => e.seq > from && this.visible(e, scope, operationTypes));
        }
        if (!entry) {
          position = this.seq;
          token = this.tokenOf(this.seq);
          return null;
        }
        position = entry.seq;
        token = this.tokenOf(entry.seq);
        if (entry.change.operationType === 'invalidate') closed = true;
        return { _id: token, ...entry.change } as ChangeDocument;
      },
    };
  }
}
