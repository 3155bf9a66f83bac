import Dockerode from 'dockerode';
import { silentLogger, type Logger } from '@kindling/core';
import { ContainerRuntime, type ContainerRuntimeOptions } from '@kindling/runner';
import { DockerContainerFactory, type DockerContainerFactoryOptions } from './docker-container-factory.js';
import { ensureLocalNodeRuntimeImage, NODE_RUNTIME_IMAGE } from './node-runtime-image.js';

export type DockerRuntimeOptions = Omit<ContainerRuntimeOptions, 'factory'> & DockerContainerFactoryOptions;

/** OpenWhisk's stem cells for nodejs:20: two prewarmed 256 MB containers. */
export const DEFAULT_DOCKER_PREWARM = [{ kind: 'nodejs:20', memoryMb: 256, count: 2 }];

/**
 * The runtime that runs every action in a Docker container: {@link ContainerRuntime}'s pool
 * (prewarm, warm reuse per revision, pause when idle, memory capacity with LRU eviction,
 * timeouts, logs) over a {@link DockerContainerFactory}. Call `start()` before the first run:
 * it removes the containers an earlier run of this instance left and starts the prewarmed ones.
 */
export function createDockerRuntime(options: DockerRuntimeOptions = {}): ContainerRuntime {
  return new ContainerRuntime({
    prewarm: DEFAULT_DOCKER_PREWARM,
    ...options,
    factory: new DockerContainerFactory(options),
  });
}

/** Whether a Docker engine answers (within `timeoutMs`). */
export async function dockerAvailable(docker: Dockerode = new Dockerode(), timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([docker.ping().then(() => true, () => false), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The Node.js runtime image to use on this engine: {@link NODE_RUNTIME_IMAGE} when it has been
 * built from `docker/runtime-nodejs/Dockerfile`, else the offline image, built now if missing
 * or out of date.
 */
export async function prepareNodeRuntimeImage(options: { docker?: Dockerode; log?: Logger } = {}): Promise<string> {
  const docker = options.docker ?? new Dockerode();
  const built = await docker
    .getImage(NODE_RUNTIME_IMAGE)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  if (built) return NODE_RUNTIME_IMAGE;
  return (await ensureLocalNodeRuntimeImage({ docker, log: options.log ?? silentLogger() })).tag;
}
