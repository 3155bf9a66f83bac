import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { KindlingError, type Logger } from '@kindling/core';
import { ProcessRuntime, type ActionRuntime } from '@kindling/runner';
import type { PlatformOptions } from './start-platform.js';

/** The runtime actions run on: local Node.js processes, or Docker containers. */
export async function createRuntime(options: PlatformOptions, log: Logger): Promise<ActionRuntime> {
  if (options.runtime === 'docker') {
    throw new KindlingError('KND_INTERNAL', 'the docker runtime is not available in this build; use --runtime process');
  }
  const workDir = join(options.dataDir, 'runner');
  await mkdir(workDir, { recursive: true });
  const runtime = new ProcessRuntime({ log: log.child({ role: 'runner' }), workDir, prewarm: [{ kind: 'nodejs:20', memoryMb: 256, count: 1 }] });
  await runtime.start();
  return runtime;
}
