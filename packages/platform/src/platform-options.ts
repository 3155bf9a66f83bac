import type { Logger, Role } from '@kindling/core';
import type { ActivationStoreSettings } from './open-activation-store.js';

/** How `startPlatform` is configured: what `kindling up` builds from its command line. */
export interface PlatformOptions {
  port: number;
  host: string;
  dataDir: string;
  auth?: string;
  natsUrl?: string;
  /** Where activation records go and how long they stay (`--activations`, `--activations-max-age`, `--activations-max-count`). */
  activations?: ActivationStoreSettings;
  runtime: 'process' | 'docker';
  providers: string[];
  mqttPort?: number;
  mqtt: boolean;
  publicUrl?: string;
  log: Logger;
  /** Prefix of every stream, bucket and subject on NATS: lets tests share one server. */
  natsScope?: string;
  /** Where `--provider` packages are resolved from. Default: the working directory. */
  providersFrom?: string;
  /**
   * The roles this process runs; default all four. Running some of them (one process per role,
   * or several processes per role to scale out) needs NATS, which they share.
   */
  roles?: readonly Role[];
}

/** A started platform: where its parts listen, and how to stop it. */
export interface RunningPlatform {
  /** Where the REST API listens; absent when this process does not run the `api` role. */
  apiUrl?: string;
  roles: readonly Role[];
  guestAuth: string;
  /** The embedded MQTT broker's URL, when it runs. */
  mqttUrl?: string;
  stop(): Promise<void>;
}
