import { MongoClient, type ChangeStream, type ChangeStreamOptions, type Document } from 'mongodb';
import type { ChangeCursor, ChangeDocument, ChangeScope, ChangeSource, ConnectChangeSource, Topology, WatchOptions } from './change-source.js';

/** The real source: the official driver's `watch()` on the deployment, a database or a collection. */
export const connectWithDriver: ConnectChangeSource = async (uri, scope) => {
  // Options given here win over the URI's, so the default applies only where the URI sets none.
  const ownTimeout = /[?&]serverSelectionTimeoutMS=/i.test(uri);
  const client = new MongoClient(uri, { appName: 'kindling-mongodb-feed', ...(ownTimeout ? {} : { serverSelectionTimeoutMS: 10_000 }) });
  await client.connect();
  return new DriverChangeSource(client, scope);
};

class DriverChangeSource implements ChangeSource {
  constructor(
    private readonly client: MongoClient,
    private readonly scope: ChangeScope,
  ) {}

  watch(options: WatchOptions): ChangeCursor {
    const streamOptions: ChangeStreamOptions = {};
    if (options.startAfter) streamOptions.startAfter = options.startAfter;
    if (options.fullDocument) streamOptions.fullDocument = options.fullDocument;
    if (options.fullDocumentBeforeChange) streamOptions.fullDocumentBeforeChange = options.fullDocumentBeforeChange;
    const pipeline = options.pipeline as Document[];
    const { database, collection } = this.scope;
    let stream: ChangeStream;
    if (database && collection) stream = this.client.db(database).collection(collection).watch(pipeline, streamOptions);
    else if (database) stream = this.client.db(database).watch(pipeline, streamOptions);
    else stream = this.client.watch(pipeline, streamOptions);
    return {
      tryNext: () => stream.tryNext() as Promise<ChangeDocument | null>,
      get resumeToken() {
        return stream.resumeToken as ChangeCursor['resumeToken'];
      },
      get closed() {
        return stream.closed;
      },
      close: () => stream.close(),
    };
  }

  async topology(): Promise<Topology> {
    const hello = await this.client.db('admin').command({ hello: 1 });
    if (hello.msg === 'isdbgrid') return 'sharded';
    return typeof hello.setName === 'string' ? 'replicaSet' : 'standalone';
  }

  async preImagesEnabled(): Promise<boolean | undefined> {
    const { database, collection } = this.scope;
    if (!database || !collection) return undefined;
    const [info] = await this.client.db(database).listCollections({ name: collection }).toArray();
    if (!info) return undefined;
    const options = (info as { options?: { changeStreamPreAndPostImages?: { enabled?: boolean } } }).options;
    return options?.changeStreamPreAndPostImages?.enabled === true;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
