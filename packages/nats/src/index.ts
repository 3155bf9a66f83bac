export { connectNatsBackend, DEFAULT_NATS_EVENTS_MAX_AGE_MS, type NatsBackend, type NatsBackendOptions } from './connect-nats-backend.js';
export { DUPLICATE_WINDOW_MS } from './ensure-streams.js';
export { DEFAULT_ACK_WAIT_MS } from './ensure-consumer.js';
