export { pgProvider, pgProvider as default, pgChangesKind } from './pg-provider.js';
export { pgChangesParams, replicationNameFor, OPERATIONS, type PgChangesParams } from './params.js';
export type { PgChange, Operation } from './change-assembler.js';
export type { PgCursor } from './change-stream.js';
export type { Row } from './row-values.js';
