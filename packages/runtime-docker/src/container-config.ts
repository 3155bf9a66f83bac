import type { ContainerCreateOptions } from 'dockerode';
import type { ContainerSpec } from '@kindling/runner';
import { Labels } from './labels.js';

/** Where each container sees its private socket directory. */
export const SOCKET_DIR_IN_CONTAINER = '/run/kindling';
/** The environment variable that tells the proxy (or a blackbox image) where to listen. */
export const PROXY_SOCKET_ENV = '__KINDLING_PROXY_SOCKET';
export const PROXY_SOCKET_IN_CONTAINER = `${SOCKET_DIR_IN_CONTAINER}/proxy.sock`;

/** What every container of one factory shares. */
export interface ContainerSettings {
  /** Label value of the invoker instance. */
  instance: string;
  /** Label value of the factory. */
  session: string;
  /** `uid:gid` the container runs as. */
  user: string;
  pidsLimit: number;
  /** Size of the writable `/tmp` (it counts against the memory limit). */
  tmpfsMb: number;
  /** Docker network of containers whose action asks for network access. */
  networkMode: string;
  /** Environment for every container. */
  env: Record<string, string>;
  /** Images that run Kindling's Node.js proxy: V8 is told their memory limit. */
  runtimeImages: ReadonlySet<string>;
}

const MB = 1024 * 1024;

/**
 * The Docker create options of one container: its limits and isolation, the socket directory
 * bind-mounted from the host, the labels that let a restarted invoker find it. Every container
 * gets the same treatment: memory without swap, a pids limit, a read-only root with a small
 * writable `/tmp`, no capabilities, no privilege escalation, a non-root user, no network unless
 * the spec asks, no log files (output is read from the attached streams).
 */
export function containerConfig(spec: ContainerSpec, settings: ContainerSettings, name: string, socketDir: string): ContainerCreateOptions {
  const runtimeImage = settings.runtimeImages.has(spec.image);
  const env: Record<string, string> = { HOME: '/tmp', ...settings.env, [PROXY_SOCKET_ENV]: PROXY_SOCKET_IN_CONTAINER };
  // V8 would otherwise stop its heap at its own default, below or above the container's limit.
  if (runtimeImage) env.NODE_OPTIONS = `--max-old-space-size=${spec.memoryMb}`;
  return {
    name,
    Image: spec.image,
    User: settings.user,
    // A blackbox image keeps its own working directory.
    ...(runtimeImage ? { WorkingDir: '/tmp' } : {}),
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: { [Labels.runner]: settings.instance, [Labels.session]: settings.session },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    HostConfig: {
      NetworkMode: spec.network ? settings.networkMode : 'none',
      Memory: spec.memoryMb * MB,
      MemorySwap: spec.memoryMb * MB,
      PidsLimit: settings.pidsLimit,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${settings.tmpfsMb}m,mode=1777` },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
      // A small init as pid 1 reaps what the action spawns and lets the proxy get signals as usual.
      Init: true,
      Binds: [`${socketDir}:${SOCKET_DIR_IN_CONTAINER}`],
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
    },
  };
}
