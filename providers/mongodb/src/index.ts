export { mongoProvider, mongoProvider as default, createMongoProvider, type MongoProviderOptions } from './mongo-provider.js';
export { mongoChangesParams, OPERATION_TYPES, DEFAULT_OPERATION_TYPES, type MongoChangesParams } from './params.js';
export { GAP_EVENT_TYPE } from './mongo-change-feed.js';
export type { MongoChange, MongoCursor } from './change-event.js';
export type { ChangeSource, ChangeCursor, ChangeDocument, ChangeScope, ConnectChangeSource, ResumeToken, Topology, WatchOptions } from './change-source.js';
