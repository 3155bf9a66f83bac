import { Agent, request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { KindlingError } from '@kindling/core';

/** Where an action proxy listens: a unix socket (no network needed) or a TCP address. */
export type ProxyEndpoint = { socketPath: string } | { host: string; port: number };

export interface ProxyReply {
  status: number;
  /** The body as text, cut after `maxResponseBytes` bytes. */
  body: string;
  /** The whole body's length in bytes. */
  length: number;
  /** The body was longer than `maxResponseBytes` and `body` holds only its start. */
  truncated: boolean;
}

export interface ProxyRequestOptions {
  signal?: AbortSignal;
  /** Bytes of the reply kept in memory; the rest is read and counted, not kept. */
  maxResponseBytes?: number;
}

/** The proxy could not be reached or hung up without a reply. */
export class ProxyTransportError extends KindlingError {
  constructor(message: string, cause: unknown) {
    super('KND_INTERNAL', message, { cause });
    this.name = 'ProxyTransportError';
  }
}

/**
 * The runner's side of the action protocol: JSON `POST`s to one proxy over kept-alive
 * connections, one per activation in flight (the pool bounds them by `limits.concurrency`).
 */
export class ProxyClient {
  private readonly agent = new Agent({ keepAlive: true });

  constructor(readonly endpoint: ProxyEndpoint) {}

  post(path: '/init' | '/run', body: unknown, options: ProxyRequestOptions = {}): Promise<ProxyReply> {
    const payload = Buffer.from(JSON.stringify(body));
    const maxBytes = options.maxResponseBytes ?? Number.POSITIVE_INFINITY;
    return new Promise<ProxyReply>((resolve, reject) => {
      const req = request(
        {
          ...this.endpoint,
          path,
          method: 'POST',
          agent: this.agent,
          signal: options.signal,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          const kept: Buffer[] = [];
          let keptBytes = 0;
          let length = 0;
          res.on('data', (chunk: Buffer) => {
            length += chunk.length;
            if (keptBytes < maxBytes) {
              const part = keptBytes + chunk.length > maxBytes ? chunk.subarray(0, maxBytes - keptBytes) : chunk;
              kept.push(part);
              keptBytes += part.length;
            }
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(kept).toString('utf8'), length, truncated: length > keptBytes }),
          );
          res.on('error', (error) => reject(transportError(path, error)));
        },
      );
      req.on('error', (error) => reject(error.name === 'AbortError' ? error : transportError(path, error)));
      req.end(payload);
    });
  }

  /**
   * Resolves once the proxy answers HTTP; polls, because a container gives no other sign that
   * its proxy is up. Any answer will do (the probe is a `GET /`, which no action protocol
   * defines), and it leaves a warm kept-alive connection for `/init`. Rejects after
   * `timeoutMs` or when `signal` aborts.
   */
  async waitUntilListening(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let pauseMs = 2;
    for (;;) {
      signal?.throwIfAborted();
      if (await this.accepts()) return;
      if (Date.now() >= deadline) {
        throw new KindlingError('KND_TIMEOUT', `The action proxy did not start listening within ${timeoutMs} ms.`);
      }
      await delay(pauseMs, undefined, { signal });
      pauseMs = Math.min(pauseMs * 2, 25);
    }
  }

  private accepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request({ ...this.endpoint, path: '/', method: 'GET', agent: this.agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(true));
        res.on('error', () => resolve(false));
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  }

  /** Drops the kept-alive connection. */
  close(): void {
    this.agent.destroy();
  }
}

function transportError(path: string, error: Error): ProxyTransportError {
  return new ProxyTransportError(`The action proxy did not answer ${path}: ${error.message}`, error);
}
