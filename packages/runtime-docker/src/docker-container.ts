import { rm } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { KindlingError, messageOf } from '@kindling/core';
import { ProxyClient, type Container, type ContainerExit, type ContainerSpec } from '@kindling/runner';

/**
 * One Docker container running an action proxy: the runner reaches the proxy on a unix socket
 * in a host directory that is bind-mounted into the container, and reads its stdout and stderr
 * from an attached stream. Created by {@link DockerContainerFactory}.
 */
export class DockerContainer implements Container {
  readonly id: string;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly proxy: ProxyClient;
  private exitReport: Promise<ContainerExit> | null = null;
  private destroying: Promise<void> | null = null;

  constructor(
    private readonly handle: Dockerode.Container,
    readonly spec: ContainerSpec,
    /** The host directory mounted into the container, holding the proxy's socket. */
    private readonly socketDir: string,
    socketPath: string,
  ) {
    this.id = handle.id;
    this.proxy = new ProxyClient({ socketPath });
  }

  /** Settles once the container has stopped, with its exit code and whether the kernel killed it for memory. */
  get exited(): Promise<ContainerExit> {
    if (!this.exitReport) throw new KindlingError('KND_INTERNAL', `Container ${this.id} was not started.`);
    return this.exitReport;
  }

  /**
   * Attaches to the output (before starting, so that nothing printed early is missed), starts
   * the container, and resolves once its proxy accepts connections on the socket.
   */
  async start(startTimeoutMs: number): Promise<void> {
    const output = await this.handle.attach({ stream: true, stdout: true, stderr: true });
    this.handle.modem.demuxStream(output, this.stdout, this.stderr);
    const endOutput = () => {
      this.stdout.end();
      this.stderr.end();
    };
    output.once('end', endOutput);
    output.once('close', endOutput);
    output.on('error', endOutput);
    await this.handle.start();
    this.exitReport = this.watchExit();
    const exitedEarly = new AbortController();
    void this.exitReport.then(() => exitedEarly.abort());
    try {
      await this.proxy.waitUntilListening(startTimeoutMs, exitedEarly.signal);
    } catch (error) {
      if (!exitedEarly.signal.aborted) throw error;
      const exit = await this.exitReport;
      throw new KindlingError(
        'KND_INTERNAL',
        `The container of ${this.spec.image} exited (code ${exit.code}) before its action proxy listened on $__KINDLING_PROXY_SOCKET.`,
      );
    }
  }

  async pause(): Promise<void> {
    await this.handle.pause();
  }

  async resume(): Promise<void> {
    await this.handle.unpause();
  }

  /** Kills and removes the container (paused or not), then its socket directory. */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      try {
        await this.handle.remove({ force: true, v: true }).catch((error: unknown) => {
          if (!isGone(error)) throw new KindlingError('KND_INTERNAL', `Cannot remove container ${this.id}: ${messageOf(error)}`, { cause: error });
        });
        if (this.exitReport) await this.exitReport;
      } finally {
        this.proxy.close();
        this.stdout.end();
        this.stderr.end();
        await rm(this.socketDir, { recursive: true, force: true });
      }
    })();
    return this.destroying;
  }

  /** Docker's wait ends when the container stops; inspect then tells whether the kernel killed it for memory. */
  private async watchExit(): Promise<ContainerExit> {
    let code: number | null = null;
    try {
      code = ((await this.handle.wait()) as { StatusCode: number }).StatusCode;
    } catch {
      // The container is gone already (removed under the wait): nothing more to learn.
      return { code: null, signal: null, oomKilled: false };
    }
    const state = await this.handle.inspect().then(
      (info) => info.State,
      () => null,
    );
    return { code, signal: null, oomKilled: state?.OOMKilled === true };
  }
}

/** 404: no such container; 409: its removal is already in progress. */
export function isGone(error: unknown): boolean {
  const status = (error as { statusCode?: number }).statusCode;
  return status === 404 || status === 409;
}
