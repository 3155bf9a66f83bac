import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { defaultLimits, KindlingError, type ActionRecord } from '@kindling/core';
import { ActionDeveloperError, type Container, type ContainerExit, type ContainerFactory, type ContainerSpec } from '../runtime/container.js';
import { ProxyClient } from '../runtime/proxy-client.js';

export interface ProcessContainerOptions {
  /** The Node.js binary that runs actions. Default: the one running this process. */
  nodePath?: string;
  /** The compiled action proxy. Default: this package's `dist/proxy/action-proxy.js`. */
  proxyPath?: string;
  /** Parent of each process's private directory (working directory and socket). Default: the OS temp dir. */
  workDir?: string;
  /** Extra environment for every action process. The runner's own environment is not passed on. */
  env?: Record<string, string>;
  /** The API URL actions see as `__OW_API_HOST`. */
  apiHost?: string;
  /** How long a new process may take to listen. Default 10 s. */
  startTimeoutMs?: number;
}

/** The image name of this host's Node.js: every `nodejs` kind runs on it. */
export const HOST_NODE_IMAGE = 'host-node';

const DIR_PREFIX = 'kindling-proc-';
const PID_FILE = 'proxy.pid';
/** `sun_path` holds 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const STDIO_CLOSE_GRACE_MS = 200;
const HEAP_EXHAUSTED = Buffer.from('JavaScript heap out of memory');
/** Environment variables worth passing from the runner to actions: locale and time zone, nothing secret. */
const INHERITED_ENV = ['PATH', 'LANG', 'LC_ALL', 'TZ'];

/** The action proxy next to this module once built (`src/` and `dist/` are at the same depth). */
export function defaultProxyPath(): string {
  return fileURLToPath(new URL('../../dist/proxy/action-proxy.js', import.meta.url));
}

/**
 * Containers as child processes of the runner: each runs the action proxy on a unix socket
 * in a private temp directory, with the action's memory limit as V8's heap limit. No network,
 * filesystem or pid isolation: that is what the Docker runtime adds.
 */
export class ProcessContainerFactory implements ContainerFactory {
  readonly name = 'process';
  private readonly nodePath: string;
  private readonly proxyPath: string;
  private readonly workDir: string;
  private readonly env: Record<string, string>;
  private readonly startTimeoutMs: number;

  constructor(options: ProcessContainerOptions = {}) {
    this.nodePath = options.nodePath ?? process.execPath;
    this.proxyPath = options.proxyPath ?? defaultProxyPath();
    this.workDir = options.workDir ?? tmpdir();
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    const env: Record<string, string> = {};
    for (const name of INHERITED_ENV) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    if (options.apiHost) env.__OW_API_HOST = options.apiHost;
    this.env = { ...env, ...options.env };
  }

  specFor(action: ActionRecord): ContainerSpec {
    const { kind } = action.exec;
    if (kind === 'blackbox') {
      throw new ActionDeveloperError('Blackbox (container image) actions need the Docker runtime; this runner uses the process runtime.', {
        field: 'exec.kind',
      });
    }
    return this.specForKind(kind, action.limits.memory ?? defaultLimits().memory);
  }

  specForKind(kind: string, memoryMb: number): ContainerSpec {
    if (kind !== 'nodejs' && !kind.startsWith('nodejs:')) {
      throw new ActionDeveloperError(`The process runtime runs Node.js actions only, not kind '${kind}'.`, { field: 'exec.kind' });
    }
    return { image: HOST_NODE_IMAGE, memoryMb, network: false };
  }

  async create(spec: ContainerSpec): Promise<Container> {
    if (!existsSync(this.proxyPath)) {
      throw new KindlingError('KND_INTERNAL', `The action proxy is not built (${this.proxyPath} is missing): run \`npx tsc -b packages/runner\`.`);
    }
    const dir = await mkdtemp(join(this.workDir, `${DIR_PREFIX}${process.pid}-`));
    const dirs = [dir];
    let socketPath = join(dir, 'proxy.sock');
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
      // A deep work dir would overflow the kernel's limit on socket paths: the socket goes to the temp dir.
      const socketDir = await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
      dirs.push(socketDir);
      socketPath = join(socketDir, 'proxy.sock');
    }
    const child = spawn(this.nodePath, [`--max-old-space-size=${spec.memoryMb}`, this.proxyPath, '--socket', socketPath, '--exit-on-stdin-end'], {
      cwd: dir,
      env: { ...this.env, HOME: dir },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so that pause, resume and kill reach whatever the action spawned.
      detached: true,
    });
    const container = new ProcessContainer(child, spec, dirs, new ProxyClient({ socketPath }));
    try {
      // For `removeOrphans` after a crash: a paused process outlives its runner.
      await writeFile(join(dir, PID_FILE), String(child.pid ?? ''));
      await container.started(this.startTimeoutMs);
    } catch (error) {
      await container.destroy();
      throw error;
    }
    return container;
  }

  /**
   * Cleans up after runners that died without stopping: kills their processes (a running one
   * exits by itself when its runner's end closes its stdin, but a paused one stays stopped) and
   * removes their directories.
   */
  async removeOrphans(): Promise<void> {
    for (const base of new Set([this.workDir, tmpdir()])) {
      const names = await readdir(base).catch(() => [] as string[]);
      const orphans = names.filter((name) => {
        const owner = Number.parseInt(name.slice(DIR_PREFIX.length), 10);
        return name.startsWith(DIR_PREFIX) && Number.isInteger(owner) && owner !== process.pid && !isAlive(owner);
      });
      for (const name of orphans) {
        const dir = join(base, name);
        await killOrphanProxy(dir, name);
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
}

/** Kills the proxy whose pid `dir` records, if that pid still runs a proxy of this directory's runner. */
async function killOrphanProxy(dir: string, name: string): Promise<void> {
  const pid = Number.parseInt(await readFile(join(dir, PID_FILE), 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 1) return;
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  // The pid may since belong to something else: only a process started with this runner's directories is ours.
  const ownerPrefix = `${name.split('-').slice(0, 3).join('-')}-`;
  if (!commandLine.includes(ownerPrefix)) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

class ProcessContainer implements Container {
  readonly id: string;
  readonly stdout: PassThrough = new PassThrough();
  readonly stderr: PassThrough = new PassThrough();
  readonly exited: Promise<ContainerExit>;
  private exit: ContainerExit | null = null;
  private heapExhausted = false;
  private stderrTail = Buffer.alloc(0);
  private destroying: Promise<void> | null = null;

  constructor(
    private readonly child: ChildProcess,
    readonly spec: ContainerSpec,
    /** Private directories to remove with the container. */
    private readonly dirs: string[],
    readonly proxy: ProxyClient,
  ) {
    this.id = `process:${child.pid ?? 'unstarted'}`;
    child.stdout!.pipe(this.stdout);
    child.stderr!.pipe(this.stderr);
    child.stderr!.on('data', (chunk: Buffer) => this.watchStderr(chunk));
    // Writing to the stdin of a dead process must not crash the runner.
    child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exit) return;
        this.exit = { code, signal, oomKilled: this.heapExhausted };
        resolve(this.exit);
      };
      // The last stderr (an exhausted heap says so there) may come after 'exit': wait for the
      // pipes to close, but not for long, as something the action spawned may hold them open.
      child.once('exit', (code, signal) => {
        const timer = setTimeout(() => done(code, signal), STDIO_CLOSE_GRACE_MS);
        child.once('close', () => {
          clearTimeout(timer);
          done(code, signal);
        });
      });
      child.once('error', () => done(null, null));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async started(timeoutMs: number): Promise<void> {
    const exitedEarly = new AbortController();
    void this.exited.then(() => exitedEarly.abort());
    try {
      await this.proxy.waitUntilListening(timeoutMs, exitedEarly.signal);
    } catch (error) {
      if (!exitedEarly.signal.aborted) throw error;
      const why = this.stderrTail.toString('utf8').trim();
      throw new KindlingError('KND_INTERNAL', `The action proxy exited before listening (code ${this.exit?.code}, signal ${this.exit?.signal})${why ? `: ${why}` : '.'}`);
    }
  }

  async pause(): Promise<void> {
    this.signalGroup('SIGSTOP');
  }

  async resume(): Promise<void> {
    this.signalGroup('SIGCONT');
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      if (!this.exit) this.signalGroup('SIGKILL');
      await this.exited;
      this.proxy.close();
      this.child.stdin?.destroy();
      await Promise.all(this.dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    })();
    return this.destroying;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exit) return;
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  /** Node reports an exhausted heap on stderr just before it aborts: remember it for the exit. */
  private watchStderr(chunk: Buffer): void {
    const window = Buffer.concat([this.stderrTail, chunk.subarray(-1024)]);
    if (!this.heapExhausted && (chunk.includes(HEAP_EXHAUSTED) || window.includes(HEAP_EXHAUSTED))) this.heapExhausted = true;
    this.stderrTail = window.subarray(-1024);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
