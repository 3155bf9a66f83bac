// @kindling/platform: the composition root. Named exports only.
export { startPlatform, DEFAULT_MQTT_PORT } from './start-platform.js';
export type { PlatformOptions, RunningPlatform } from './platform-options.js';
