import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { annotation, defaultLimits, KindlingError, messageOf, parseWith, silentLogger, z, type ActionRecord, type BlackboxExec, type Logger } from '@kindling/core';
import { ActionDeveloperError, type Container, type ContainerFactory, type ContainerSpec } from '@kindling/runner';
import { containerConfig, type ContainerSettings } from './container-config.js';
import { DockerContainer, isGone } from './docker-container.js';
import { Labels } from './labels.js';
import { NOBODY, NODE_RUNTIME_IMAGE } from './node-runtime-image.js';

export interface DockerContainerFactoryOptions {
  /** The engine. Default: `new Dockerode()` (`DOCKER_HOST` or `/var/run/docker.sock`); it must run on this machine (sockets are bind-mounted). */
  docker?: Dockerode;
  /**
   * Names this invoker on the engine: its containers carry `dev.kindling.runner=<instance>`, and
   * `removeOrphans` removes every container with that label that another factory left. Two
   * invokers sharing an engine need different instances. Default `kindling`.
   */
  instance?: string;
  /** The image every `nodejs` kind runs on. Default {@link NODE_RUNTIME_IMAGE}. */
  nodeImage?: string;
  /** Host directory under which each container gets its socket directory. Default `<tmp>/kindling-docker/<instance>`. */
  socketRoot?: string;
  /** `uid:gid` containers run as. Default `65534:65534` (nobody) when the runner is root, else the runner's own ids (it must reach their sockets). */
  user?: string;
  /** Most processes and threads per container. Default 1024, as OpenWhisk. */
  pidsLimit?: number;
  /** Size of each container's writable `/tmp`, counted against its memory. Default 64 MB. */
  tmpfsMb?: number;
  /** The Docker network of containers whose action asks for network access (annotation `network: true`). Default `bridge`. */
  networkMode?: string;
  /** Extra environment for every container. */
  env?: Record<string, string>;
  /** The API URL actions see as `__OW_API_HOST`. */
  apiHost?: string;
  /** How long a new container may take until its proxy listens. Default 10 s. */
  startTimeoutMs?: number;
  log?: Logger;
}

const optionsSchema = z.object({
  instance: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/, 'must be 1-40 letters, digits, _ . or -, starting with a letter or digit')
    .default('kindling'),
  nodeImage: z.string().min(1).default(NODE_RUNTIME_IMAGE),
  socketRoot: z.string().min(1).optional(),
  user: z.string().regex(/^\d+:\d+$/, "must be numeric 'uid:gid'").optional(),
  pidsLimit: z.number().int().min(16).default(1024),
  tmpfsMb: z.number().int().min(1).max(1024).default(64),
  networkMode: z.string().min(1).default('bridge'),
  env: z.record(z.string(), z.string()).default({}),
  apiHost: z.string().optional(),
  startTimeoutMs: z.number().int().positive().default(10_000),
});

/** `sun_path` holds 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const SOCKET_NAME = 'proxy.sock';

/**
 * Containers on a Docker engine for {@link ContainerRuntime}. Each runs an action proxy (the
 * Node.js runtime image, or a blackbox image that speaks the protocol) listening on a unix
 * socket in its own host directory, so that containers need no network. Every container gets
 * the limits of {@link containerConfig}.
 */
export class DockerContainerFactory implements ContainerFactory {
  readonly name = 'docker';
  readonly instance: string;
  /** Tells this factory's containers from those an earlier run of the invoker left. */
  readonly session = randomBytes(4).toString('hex');
  private readonly docker: Dockerode;
  private readonly nodeImage: string;
  private readonly socketRoot: string;
  private readonly settings: ContainerSettings;
  private readonly startTimeoutMs: number;
  private readonly log: Logger;
  private created = 0;

  constructor(options: DockerContainerFactoryOptions = {}) {
    const { docker, log, ...plain } = options;
    const parsed = parseWith(optionsSchema, plain, { prefix: 'docker' });
    this.docker = docker ?? new Dockerode();
    this.log = log ?? silentLogger();
    this.instance = parsed.instance;
    this.nodeImage = parsed.nodeImage;
    this.socketRoot = parsed.socketRoot ?? join(tmpdir(), 'kindling-docker', parsed.instance);
    this.startTimeoutMs = parsed.startTimeoutMs;
    const longest = join(this.socketRoot, `${this.session}-${Number.MAX_SAFE_INTEGER}`, SOCKET_NAME);
    if (Buffer.byteLength(longest) > MAX_SOCKET_PATH_BYTES) {
      throw new KindlingError('KND_VALIDATION', `'docker.socketRoot' is too long for unix socket paths: use a directory of at most ${MAX_SOCKET_PATH_BYTES - (Buffer.byteLength(longest) - Buffer.byteLength(this.socketRoot))} bytes.`, {
        field: 'docker.socketRoot',
      });
    }
    this.settings = {
      instance: parsed.instance,
      session: this.session,
      user: parsed.user ?? defaultUser(),
      pidsLimit: parsed.pidsLimit,
      tmpfsMb: parsed.tmpfsMb,
      networkMode: parsed.networkMode,
      env: { ...(parsed.apiHost ? { __OW_API_HOST: parsed.apiHost } : {}), ...parsed.env },
      runtimeImages: new Set([parsed.nodeImage]),
    };
  }

  specFor(action: ActionRecord): ContainerSpec {
    const memoryMb = action.limits.memory ?? defaultLimits().memory;
    const network = annotation(action.annotations, 'network') === true;
    const { exec } = action;
    if (exec.kind === 'blackbox') return { image: (exec as BlackboxExec).image, memoryMb, network };
    return { ...this.specForKind(exec.kind, memoryMb), network };
  }

  specForKind(kind: string, memoryMb: number): ContainerSpec {
    if (kind !== 'nodejs' && !kind.startsWith('nodejs:')) {
      throw new ActionDeveloperError(`The Docker runtime runs Node.js and blackbox actions, not kind '${kind}'.`, { field: 'exec.kind' });
    }
    return { image: this.nodeImage, memoryMb, network: false };
  }

  async create(spec: ContainerSpec): Promise<Container> {
    const name = `kindling-${this.instance}-${this.session}-${++this.created}`;
    const socketDir = join(this.socketRoot, `${this.session}-${this.created}`);
    await mkdir(this.socketRoot, { recursive: true });
    await mkdir(socketDir, { mode: 0o700 });
    const [uid, gid] = this.settings.user.split(':').map(Number) as [number, number];
    // The container's user creates the socket there; the runner, as root or as that user, connects to it.
    if (process.getuid?.() === 0) await chown(socketDir, uid, gid);
    let handle: Dockerode.Container;
    try {
      handle = await this.docker.createContainer(containerConfig(spec, this.settings, name, socketDir));
    } catch (error) {
      await rm(socketDir, { recursive: true, force: true });
      throw this.createFailure(spec, error);
    }
    const container = new DockerContainer(handle, spec, socketDir, join(socketDir, SOCKET_NAME));
    try {
      await container.start(this.startTimeoutMs);
    } catch (error) {
      await container.destroy().catch((cleanup: unknown) => this.log.warn({ container: container.id, err: messageOf(cleanup) }, 'could not remove a container that failed to start'));
      throw error;
    }
    return container;
  }

  /** Removes the containers and socket directories that earlier factories of this instance left (an invoker that crashed or was killed). */
  async removeOrphans(): Promise<void> {
    const listed = await this.docker.listContainers({ all: true, filters: { label: [`${Labels.runner}=${this.instance}`] } });
    const orphans = listed.filter((info) => info.Labels[Labels.session] !== this.session);
    await Promise.all(
      orphans.map((info) =>
        this.docker
          .getContainer(info.Id)
          .remove({ force: true, v: true })
          .catch((error: unknown) => {
            if (!isGone(error)) throw error;
          }),
      ),
    );
    if (orphans.length > 0) this.log.info({ instance: this.instance, removed: orphans.length }, 'removed containers left by an earlier run');
    const dirs = await readdir(this.socketRoot).catch(() => [] as string[]);
    await Promise.all(dirs.filter((dir) => !dir.startsWith(`${this.session}-`)).map((dir) => rm(join(this.socketRoot, dir), { recursive: true, force: true })));
  }

  private createFailure(spec: ContainerSpec, error: unknown): Error {
    const status = (error as { statusCode?: number }).statusCode;
    const missingImage = status === 404;
    if (missingImage && this.settings.runtimeImages.has(spec.image)) {
      return new KindlingError(
        'KND_INTERNAL',
        `The runtime image ${spec.image} is not on the Docker engine: build it (see docker/runtime-nodejs/README.md) or use ensureLocalNodeRuntimeImage().`,
        { cause: error },
      );
    }
    if (missingImage) {
      return new ActionDeveloperError(`The action's image '${spec.image}' does not exist on this runner's Docker engine (images are not pulled): build or load it there.`, {
        field: 'exec.image',
        cause: error,
      });
    }
    if (status === 400 && !this.settings.runtimeImages.has(spec.image)) {
      return new ActionDeveloperError(`The action's image '${spec.image}' cannot be used: ${messageOf(error)}`, { field: 'exec.image', cause: error });
    }
    return new KindlingError('KND_INTERNAL', `Docker could not create a container of ${spec.image}: ${messageOf(error)}`, { cause: error });
  }
}

/** Root runs containers as nobody; anyone else as themselves, so that they can connect to the socket the container creates. */
function defaultUser(): string {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined || uid === 0) return NOBODY;
  return `${uid}:${gid}`;
}
