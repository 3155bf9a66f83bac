export { openEmbeddedBackend, DEFAULT_EMBEDDED_EVENTS_MAX_AGE_MS, type EmbeddedBackend, type EmbeddedBackendOptions } from './open-embedded-backend.js';
export { DUPLICATE_WINDOW_MS, DEFAULT_ACK_WAIT_MS, type StreamInfo } from './embedded-bus.js';
export { MAX_PAYLOAD_BYTES } from './payload-size.js';
