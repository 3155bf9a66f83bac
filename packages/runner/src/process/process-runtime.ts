import { ContainerRuntime, type ContainerRuntimeOptions } from '../runtime/container-runtime.js';
import { ProcessContainerFactory, type ProcessContainerOptions } from './process-container-factory.js';

export type ProcessRuntimeOptions = Omit<ContainerRuntimeOptions, 'factory'> & ProcessContainerOptions;

/**
 * The runtime for machines without Docker: each container is a child process running the
 * action proxy on a unix socket. Idle processes are paused with SIGSTOP and resumed with
 * SIGCONT. Defaults: one prewarmed 256 MB `nodejs:default` process, 2048 MB of capacity.
 */
export class ProcessRuntime extends ContainerRuntime {
  constructor(options: ProcessRuntimeOptions = {}) {
    super({
      prewarm: [{ kind: 'nodejs:default', memoryMb: 256, count: 1 }],
      ...options,
      factory: new ProcessContainerFactory(options),
    });
  }
}
