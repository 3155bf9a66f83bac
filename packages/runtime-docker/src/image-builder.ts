import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import type Dockerode from 'dockerode';
import { KindlingError, messageOf, silentLogger, type Logger } from '@kindling/core';
import { Labels } from './labels.js';

/** A file of the image: copied from this machine (`source`) or written from `content`. */
export type ImageFile = { path: string; source: string } | { path: string; content: string | Buffer; mode?: number };

/**
 * An image assembled without a registry: `FROM` a local image or `scratch`, one `COPY` of the
 * listed files and directories, then the given instructions (`USER`, `ENV`, `ENTRYPOINT`, …).
 */
export interface ImageRecipe {
  tag: string;
  /** `scratch`, or an image that exists on the engine. */
  from: string;
  files: ImageFile[];
  /** Empty directories to create, with their modes (`/tmp`: 0o1777). */
  directories?: { path: string; mode: number }[];
  instructions: string[];
}

export interface ImageBuildResult {
  tag: string;
  /** False when an image with the same fingerprint was already there. */
  built: boolean;
  /** Hash of everything that goes into the image, kept in its `dev.kindling.fingerprint` label. */
  fingerprint: string;
}

/** Files larger than this are identified by path, size and modification time instead of hashed. */
const HASHED_FILE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Builds `recipe` on the engine unless an image with its tag already carries the same
 * fingerprint, so that calling it before every test run or `kindling up` costs one inspect.
 * The build context is a tar of the files, streamed from this machine (no registry, no
 * network inside the build): `FROM scratch` images need nothing but the engine.
 */
export async function ensureImage(docker: Dockerode, recipe: ImageRecipe, log: Logger = silentLogger()): Promise<ImageBuildResult> {
  const base = recipe.from === 'scratch' ? 'scratch' : await imageId(docker, recipe.from);
  if (base === null) throw new KindlingError('KND_INTERNAL', `Cannot build ${recipe.tag}: its base image ${recipe.from} does not exist on the Docker engine.`);
  const fingerprint = await fingerprintOf(recipe, base);
  const existing = await docker
    .getImage(recipe.tag)
    .inspect()
    .catch(() => null);
  if (existing?.Config?.Labels?.[Labels.fingerprint] === fingerprint) return { tag: recipe.tag, built: false, fingerprint };
  const started = Date.now();
  const context = await mkdtemp(join(tmpdir(), 'kindling-image-'));
  try {
    await writeContext(context, recipe, fingerprint);
    await runBuild(docker, context, recipe.tag);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  log.info({ image: recipe.tag, ms: Date.now() - started }, 'built an image');
  // The image this one replaced would stay behind untagged: remove it unless something still uses it.
  if (existing?.Config?.Labels?.[Labels.fingerprint]) {
    await docker
      .getImage(existing.Id)
      .remove()
      .catch((error: unknown) => log.debug({ image: existing.Id, err: messageOf(error) }, 'kept the image a rebuild replaced'));
  }
  return { tag: recipe.tag, built: true, fingerprint };
}

async function imageId(docker: Dockerode, name: string): Promise<string | null> {
  try {
    return (await docker.getImage(name).inspect()).Id;
  } catch {
    return null;
  }
}

async function fingerprintOf(recipe: ImageRecipe, base: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`from ${base}\n${recipe.instructions.join('\n')}\n`);
  for (const dir of recipe.directories ?? []) hash.update(`dir ${dir.path} ${dir.mode.toString(8)}\n`);
  for (const file of recipe.files) {
    hash.update(`file ${file.path}\n`);
    if ('content' in file) {
      hash.update(file.content);
      hash.update(`mode ${(file.mode ?? 0o644).toString(8)}\n`);
      continue;
    }
    const real = await realpath(file.source);
    const info = await stat(real);
    if (info.size <= HASHED_FILE_MAX_BYTES) hash.update(await readFile(real));
    else hash.update(`${real} ${info.size} ${info.mtimeMs}`);
    hash.update(`mode ${(info.mode & 0o7777).toString(8)}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

/** The context: a Dockerfile, and `rootfs/` with symlinks to the source files (tar dereferences them). */
async function writeContext(context: string, recipe: ImageRecipe, fingerprint: string): Promise<void> {
  const rootfs = join(context, 'rootfs');
  await mkdir(rootfs);
  for (const dir of recipe.directories ?? []) {
    const target = join(rootfs, posix.normalize(dir.path));
    await mkdir(target, { recursive: true });
    await chmod(target, dir.mode);
  }
  for (const file of recipe.files) {
    const target = join(rootfs, posix.normalize(file.path));
    await mkdir(dirname(target), { recursive: true });
    if ('content' in file) {
      await writeFile(target, file.content);
      await chmod(target, file.mode ?? 0o644);
    } else {
      await symlink(await realpath(file.source), target);
    }
  }
  const dockerfile = [`FROM ${recipe.from}`, 'COPY rootfs/ /', ...recipe.instructions, `LABEL ${Labels.fingerprint}="${fingerprint}"`];
  await writeFile(join(context, 'Dockerfile'), `${dockerfile.join('\n')}\n`);
}

async function runBuild(docker: Dockerode, context: string, tag: string): Promise<void> {
  // `tar -h` follows the symlinks, so the context carries the files themselves.
  const tar = spawn('tar', ['-C', context, '-ch', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const tarFailed = new Promise<never>((_, reject) => {
    let stderr = '';
    tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    tar.once('error', (error) => reject(new KindlingError('KND_INTERNAL', `Cannot run tar to build ${tag}: ${error.message}`)));
    tar.once('exit', (code) => {
      if (code !== 0) reject(new KindlingError('KND_INTERNAL', `tar failed while packing the context of ${tag}: ${stderr.trim()}`));
    });
  });
  // Only the race below reads it: once the build has won, a late tar failure has nothing to fail.
  tarFailed.catch(() => undefined);
  const build = (async () => {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await docker.buildImage(tar.stdout, { t: tag, rm: true, forcerm: true });
    } catch (error) {
      throw new KindlingError('KND_INTERNAL', `The Docker engine refused to build ${tag}: ${messageOf(error)}`, { cause: error });
    }
    const events = await new Promise<{ error?: string; errorDetail?: { message?: string } }[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null, output: unknown[]) => (error ? reject(error) : resolve(output as never))),
    );
    const failure = events.find((event) => event.error);
    if (failure) throw new KindlingError('KND_INTERNAL', `Building ${tag} failed: ${failure.errorDetail?.message ?? failure.error}`);
  })();
  await Promise.race([build, tarFailed]);
}
