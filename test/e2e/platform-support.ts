import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, randomId } from '@kindling/core';
import { startPlatform, type PlatformOptions, type RunningPlatform } from '@kindling/platform';
import { connectNatsBackend } from '@kindling/nats';
import { NATS_URL, type EventuallyOptions } from '@kindling/test-support';

export type BackendKind = 'embedded' | 'nats';

/**
 * A whole platform as `kindling up` starts it, on a random loopback port, a temporary data
 * directory and (on NATS) a scope of its own, so that tests share nothing.
 */
export class PlatformFixture {
  /** The running platform; these fixtures always run the API role, so `apiUrl` is there. */
  platform!: RunningPlatform & { apiUrl: string };
  private dataDir!: string;
  private readonly scope = `e2e-${randomId(4)}`;

  constructor(
    readonly backend: BackendKind,
    private readonly runtime: 'process' | 'docker' = 'process',
  ) {}

  async start(): Promise<RunningPlatform> {
    this.dataDir ??= await mkdtemp(join(tmpdir(), 'kindling-e2e-'));
    const platform = await startPlatform(this.options());
    if (!platform.apiUrl) throw new Error('the platform runs no API');
    this.platform = { ...platform, apiUrl: platform.apiUrl };
    return this.platform;
  }

  /** Stops the platform and starts it again on the same data directory or NATS scope. */
  async restart(): Promise<RunningPlatform> {
    await this.platform.stop();
    return this.start();
  }

  async dispose(): Promise<void> {
    await this.platform?.stop();
    if (this.backend === 'nats') {
      const backend = await connectNatsBackend({ servers: NATS_URL, scope: this.scope });
      await backend.destroyScope();
      await backend.close();
    }
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }

  private options(): PlatformOptions {
    return {
      port: 0,
      host: '127.0.0.1',
      dataDir: this.dataDir,
      runtime: this.runtime,
      providers: [],
      mqtt: false,
      log: createLogger({ level: process.env.KINDLING_LOG_LEVEL ?? 'warn', name: `e2e-${this.backend}` }),
      ...(this.backend === 'nats' ? { natsUrl: NATS_URL, natsScope: this.scope } : {}),
    };
  }
}

/** How the end-to-end tests wait on a platform: probes that throw (a part still starting) mean "not yet". */
export const PLATFORM_WAIT: EventuallyOptions = { retryErrors: true, intervalMs: 100 };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
