export { SqliteActivationStore, type SqliteActivationStoreOptions } from './sqlite-activation-store.js';
export { PostgresActivationStore, redactedUrl, type PostgresActivationStoreOptions } from './postgres-activation-store.js';
export { ActivationPruner, type ActivationPrunerOptions } from './activation-pruner.js';
