import { KindlingError, type Logger } from '@kindling/core';

export interface PlatformOptions {
  port: number;
  host: string;
  dataDir: string;
  auth?: string;
  natsUrl?: string;
  runtime: 'process' | 'docker';
  providers: string[];
  mqttPort?: number;
  mqtt: boolean;
  publicUrl?: string;
  log: Logger;
}

export interface RunningPlatform {
  apiUrl: string;
  guestAuth: string;
  stop(): Promise<void>;
}

export async function startPlatform(_options: PlatformOptions): Promise<RunningPlatform> {
  throw new KindlingError('KND_INTERNAL', 'not wired yet');
}
