import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the REST API on a random loopback port, for the CLI's tests: it answers
 * what a test scripts and records every request. The real API is exercised end to end by
 * the platform's own tests, not here.
 */
export interface RecordedRequest {
  method: string;
  /** Path without the query, as sent (percent-encoding kept). */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeReply {
  status: number;
  body?: unknown;
}

type Responder = FakeReply | ((request: RecordedRequest) => FakeReply);

export class FakeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, Responder>();

  private constructor(private readonly server: Server) {}

  /** `http://127.0.0.1:<port>`, the API host to give the CLI. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  static async start(): Promise<FakeApi> {
    const server = createServer();
    const api = new FakeApi(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        const text = Buffer.concat(chunks).toString('utf8');
        const request: RecordedRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body: text === '' ? undefined : JSON.parse(text),
        };
        api.requests.push(request);
        const reply = api.reply(request);
        res.writeHead(reply.status, reply.body === undefined ? {} : { 'content-type': 'application/json' });
        res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  /** Answers `method path` (path under `/api/v1/`, e.g. `namespaces/_/actions/hello`) with `reply`. */
  on(method: string, path: string, reply: Responder): this {
    this.routes.set(`${method} /api/v1/${path}`, reply);
    return this;
  }

  /** The one request received, failing loudly if there were more or fewer. */
  only(): RecordedRequest {
    if (this.requests.length !== 1) {
      throw new Error(`expected one request, got ${this.requests.length}: ${this.requests.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    }
    return this.requests[0]!;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private reply(request: RecordedRequest): FakeReply {
    const responder = this.routes.get(`${request.method} ${request.path}`);
    if (responder === undefined) {
      return { status: 404, body: { error: 'The requested resource does not exist.', code: 'fake-request-1' } };
    }
    return typeof responder === 'function' ? responder(request) : responder;
  }
}

/** A loopback port where nothing listens: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Captures what a run of the CLI writes. */
export function captureIo(): { io: { stdout(text: string): void; stderr(text: string): void }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: (text) => void (out += text), stderr: (text) => void (err += text) },
    out: () => out,
    err: () => err,
  };
}
