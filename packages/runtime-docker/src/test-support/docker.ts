import { describe } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { defaultLimits, type ActionLimits, type ActionRecord } from '@kindling/core';
import { dockerAvailable } from '../docker-runtime.js';
import { ensureImage } from '../image-builder.js';
import { isGone } from '../docker-container.js';
import { Labels } from '../labels.js';
import { ensureLocalNodeRuntimeImage, NOBODY } from '../node-runtime-image.js';

/**
 * `describe` when a Docker engine answers, else a loud skip on a laptop, or a failure under
 * CI=true (CI starts one, see .ci/run), as @kindling/test-support's service checks do for other services.
 */
export async function describeWithDocker(): Promise<typeof describe> {
  if (await dockerAvailable()) return describe;
  const message = 'no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)';
  if (process.env.CI === 'true') throw new Error(`${message}; CI must run the Docker runtime tests (see .ci/run)`);
  console.warn(`\n\n*** SKIPPING Docker runtime integration tests: ${message} ***\n`);
  return describe.skip as unknown as typeof describe;
}

export const BLACKBOX_ECHO_IMAGE = 'kindling-test/blackbox-echo:local';

/**
 * The images the tests run: the offline Node.js runtime image, and a blackbox image whose own
 * program ({@link ./blackbox-echo.mjs}) speaks the protocol, built on the runtime image's files.
 * Both are rebuilt only when their inputs change.
 */
export async function buildTestImages(docker: Dockerode): Promise<{ node: string; blackbox: string }> {
  const node = await ensureLocalNodeRuntimeImage({ docker });
  const blackbox = await ensureImage(docker, {
    tag: BLACKBOX_ECHO_IMAGE,
    from: node.tag,
    files: [{ path: '/blackbox/server.mjs', source: fileURLToPath(new URL('./blackbox-echo.mjs', import.meta.url)) }],
    instructions: [`USER ${NOBODY}`, 'WORKDIR /blackbox', 'ENTRYPOINT ["/usr/bin/node", "/blackbox/server.mjs"]'],
  });
  return { node: node.tag, blackbox: blackbox.tag };
}

/** An instance name of its own per test, so that parallel suites never remove each other's containers. */
export function testInstance(label: string): string {
  return `test-${label}-${randomBytes(3).toString('hex')}`;
}

/** The containers of an instance that exist on the engine now. */
export async function containersOf(docker: Dockerode, instance: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${Labels.runner}=${instance}`] } });
}

/** Removes whatever an instance left: containers (of a test that failed half-way) and its socket root. */
export async function removeInstance(docker: Dockerode, instance: string): Promise<void> {
  await rm(join(tmpdir(), 'kindling-docker', instance), { recursive: true, force: true });
  const left = await containersOf(docker, instance);
  await Promise.all(
    left.map((info) =>
      docker
        .getContainer(info.Id)
        .remove({ force: true })
        .catch((error: unknown) => {
          if (!isGone(error)) throw error;
        }),
    ),
  );
}

/** Inspects a container, or null once it is gone. */
export async function inspectOrNull(docker: Dockerode, id: string): Promise<Dockerode.ContainerInspectInfo | null> {
  try {
    return await docker.getContainer(id).inspect();
  } catch (error) {
    if (isGone(error)) return null;
    throw error;
  }
}

let revision = Date.now();

/** A Node.js action record as the API stores it; each call is a new revision. */
export function nodeAction(name: string, code: string, options: { limits?: Partial<ActionLimits>; annotations?: ActionRecord['annotations'] } = {}): ActionRecord {
  return {
    namespace: 'guest',
    name,
    version: '0.0.1',
    publish: false,
    annotations: options.annotations ?? [{ key: 'exec', value: 'nodejs:20' }],
    updated: ++revision,
    exec: { kind: 'nodejs:20', code, binary: false },
    parameters: [],
    limits: { ...defaultLimits(), ...options.limits },
  };
}

export function blackboxAction(name: string, image: string, options: { limits?: Partial<ActionLimits> } = {}): ActionRecord {
  return {
    namespace: 'guest',
    name,
    version: '0.0.1',
    publish: false,
    annotations: [{ key: 'exec', value: 'blackbox' }],
    updated: ++revision,
    exec: { kind: 'blackbox', image, binary: false },
    parameters: [],
    limits: { ...defaultLimits(), ...options.limits },
  };
}
