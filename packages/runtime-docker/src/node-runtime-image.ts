import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { KindlingError, silentLogger, type Logger } from '@kindling/core';
import { defaultProxyPath } from '@kindling/runner';
import { ensureImage, type ImageBuildResult, type ImageFile, type ImageRecipe } from './image-builder.js';

/** The Node.js runtime image built from `docker/runtime-nodejs/Dockerfile` (needs a registry for `node:20-slim`). */
export const NODE_RUNTIME_IMAGE = 'kindling/nodejs:20';
/** The same runtime assembled offline from this machine's Node.js binary (tests, CI, machines without a registry). */
export const LOCAL_NODE_RUNTIME_IMAGE = 'kindling/nodejs:local';
/** Where runtime images keep the action proxy (`.mjs`: it is an ES module). */
export const PROXY_PATH_IN_IMAGE = '/kindling/action-proxy.mjs';
/** The unprivileged user every container runs as (`nobody`), unless the runner says otherwise. */
export const NOBODY = '65534:65534';

const run = promisify(execFile);

export interface LocalNodeRuntimeImageOptions {
  docker?: Dockerode;
  /** Default {@link LOCAL_NODE_RUNTIME_IMAGE}. */
  tag?: string;
  /** The Node.js binary to copy in. Default: the one running this process. */
  nodePath?: string;
  /** The compiled action proxy. Default: `@kindling/runner`'s `dist/proxy/action-proxy.js`. */
  proxyPath?: string;
  log?: Logger;
}

/**
 * Builds the Node.js runtime image from this machine's Node.js, its shared libraries and the
 * action proxy (`FROM scratch`, no registry needed), unless the image is already there with
 * the same inputs. About 100 MB; a few seconds the first time, one inspect afterwards.
 */
export async function ensureLocalNodeRuntimeImage(options: LocalNodeRuntimeImageOptions = {}): Promise<ImageBuildResult> {
  const docker = options.docker ?? new Dockerode();
  return ensureImage(docker, await localNodeRuntimeRecipe(options), options.log ?? silentLogger());
}

/** What {@link ensureLocalNodeRuntimeImage} builds: exported so that images for tests can start from the same files. */
export async function localNodeRuntimeRecipe(options: Omit<LocalNodeRuntimeImageOptions, 'docker' | 'log'> = {}): Promise<ImageRecipe> {
  const nodePath = await realpath(options.nodePath ?? process.execPath);
  const proxyPath = options.proxyPath ?? defaultProxyPath();
  const { stdout: version } = await run(nodePath, ['--version']);
  const files: ImageFile[] = [
    { path: '/usr/bin/node', source: nodePath },
    ...(await sharedLibraries(nodePath)).map((path) => ({ path, source: path })),
    { path: PROXY_PATH_IN_IMAGE, source: proxyPath },
    { path: '/etc/passwd', content: 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' },
    { path: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
  ];
  return {
    tag: options.tag ?? LOCAL_NODE_RUNTIME_IMAGE,
    from: 'scratch',
    files,
    directories: [{ path: '/tmp', mode: 0o1777 }],
    instructions: [
      `USER ${NOBODY}`,
      'WORKDIR /tmp',
      'ENV HOME=/tmp',
      `LABEL dev.kindling.node-version="${version.trim()}"`,
      `ENTRYPOINT ["/usr/bin/node", "${PROXY_PATH_IN_IMAGE}"]`,
    ],
  };
}

/** The shared libraries a binary loads, as `ldd` lists them (none for a static binary). */
async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('ldd', [binary]));
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(output)) return [];
    throw new KindlingError('KND_INTERNAL', `Cannot list the libraries of ${binary} with ldd: ${output.trim() || (error as Error).message}`);
  }
  const libraries: string[] = [];
  for (const line of stdout.split('\n')) {
    // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` or `/lib64/ld-linux-x86-64.so.2 (0x…)`; the vdso has no file.
    const path = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line)?.[1];
    if (path) libraries.push(path);
  }
  return libraries;
}
