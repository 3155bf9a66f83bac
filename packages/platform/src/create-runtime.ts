import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { KindlingError, type Logger } from '@kindling/core';
import { ProcessRuntime, type ActionRuntime } from '@kindling/runner';
import { createDockerRuntime, dockerAvailable, prepareNodeRuntimeImage } from '@kindling/runtime-docker';
import type { PlatformOptions } from './platform-options.js';

/** The runtime actions run on: local Node.js processes, or Docker containers. */
export async function createRuntime(options: PlatformOptions, apiHost: string, log: Logger): Promise<ActionRuntime> {
  const runnerLog = log.child({ role: 'runner' });
  if (options.runtime === 'docker') {
    if (!(await dockerAvailable())) {
      throw new KindlingError('KND_UNREACHABLE', 'no Docker engine answers (DOCKER_HOST or /var/run/docker.sock): start one, or use --runtime process');
    }
    const runtime = createDockerRuntime({
      log: runnerLog,
      // Builds the Node.js image offline when the registry-built one is absent.
      nodeImage: await prepareNodeRuntimeImage({ log: runnerLog }),
      // One invoker per data directory: a restart removes the containers its previous run left, and no one else's.
      instance: `up-${createHash('sha256').update(resolve(options.dataDir)).digest('hex').slice(0, 12)}`,
    });
    await runtime.start();
    return runtime;
  }
  const workDir = join(options.dataDir, 'runner');
  await mkdir(workDir, { recursive: true });
  const runtime = new ProcessRuntime({ log: runnerLog, workDir, apiHost, prewarm: [{ kind: 'nodejs:20', memoryMb: 256, count: 1 }] });
  await runtime.start();
  return runtime;
}
