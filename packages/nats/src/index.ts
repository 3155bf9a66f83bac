export { connectNatsBackend, DEFAULT_NATS_EVENTS_MAX_AGE_MS, type NatsBackend, type NatsBackendOptions } from './connect-nats-backend.js';
