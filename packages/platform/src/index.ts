// @kindling/platform: the composition root. Named exports only.
export { startPlatform, DEFAULT_MQTT_PORT } from './start-platform.js';
export type { PlatformOptions, RunningPlatform } from './platform-options.js';
export { DEFAULT_EMBEDDED_ACTIVATION_RETENTION, DEFAULT_POSTGRES_ACTIVATION_RETENTION, type ActivationStoreSettings } from './open-activation-store.js';
