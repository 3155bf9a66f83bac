export { openEmbeddedBackend, DEFAULT_EMBEDDED_EVENTS_MAX_AGE_MS, type EmbeddedBackend, type EmbeddedBackendOptions } from './open-embedded-backend.js';
export { applyMigrations } from './apply-migrations.js';
export { type StreamInfo } from './embedded-bus.js';
