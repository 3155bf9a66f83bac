import { createHmac } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
// The one provider test that goes through the platform's real webhook ingress (HTTP route, body
// limits, signature check), so it needs the API itself, not only the conformance kit.
// eslint-disable-next-line no-restricted-imports
import { createApi, NamespaceStore } from '@kindling/api';
import { createLogger, KindlingError, type CloudEvent, type Clock, type Logger } from '@kindling/sdk';
import {
  decodeJson,
  FeedHost,
  ProviderRegistry,
  type EventBus,
  openEmbeddedBackend,
  type EmbeddedBackend,
  eventually,
} from '@kindling/provider-testkit';
import type { FastifyInstance } from 'fastify';
import { githubProvider } from '../github-provider.js';

export const GUEST_KEY = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
export const PUBLIC_URL = 'https://kindling.example';

/** Every line the platform logs, at every level: where a leaked secret would show up. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger;

  constructor() {
    const lines = this.lines;
    this.logger = createLogger({
      level: 'trace',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
  }

  containing(text: string): string[] {
    return this.lines.filter((line) => line.includes(text));
  }
}

/** The embedded bus, recording each trigger event it stores, and able to play down (publish fails). */
export class RecordingBus implements EventBus {
  readonly fired: CloudEvent[] = [];
  down = false;

  constructor(private readonly inner: EventBus) {}

  async publish(...args: Parameters<EventBus['publish']>): ReturnType<EventBus['publish']> {
    if (this.down) throw new KindlingError('KND_BUS_UNAVAILABLE', 'the bus is down (test)');
    const ack = await this.inner.publish(...args);
    if (!ack.duplicate && args[0].startsWith('kindling.events.')) this.fired.push(decodeJson<CloudEvent>(args[1]));
    return ack;
  }

  consume(...args: Parameters<EventBus['consume']>): ReturnType<EventBus['consume']> {
    return this.inner.consume(...args);
  }

  notify(subject: string, data: Uint8Array): void {
    this.inner.notify(subject, data);
  }

  listen(...args: Parameters<EventBus['listen']>): ReturnType<EventBus['listen']> {
    return this.inner.listen(...args);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface IngressResponse {
  status: number;
  body: string;
  // Answers have many shapes; the assertions say what each must hold.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json(): any;
}

export interface Delivery {
  event: string;
  payload: unknown;
  delivery?: string;
  /** Signs with this secret (default: the feed's); `null` sends no signature. */
  secret?: string | null;
  /** Sent instead of the JSON of `payload` (signed as is). */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * The real ingress: `createApi` from `@kindling/api` listening on a loopback port, a core
 * `FeedHost` running the GitHub provider, and the in-memory embedded backend.
 */
export class IngressHarness {
  readonly logs = new LogCapture();
  backend!: EmbeddedBackend;
  bus!: RecordingBus;
  host!: FeedHost;
  api!: FastifyInstance;
  baseUrl = '';
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });

  private readonly registry = new ProviderRegistry([githubProvider]);
  private clock: Clock | undefined;

  static async open(options: { clock?: Clock; hookBodyLimitBytes?: number } = {}): Promise<IngressHarness> {
    const harness = new IngressHarness();
    await harness.start(options);
    return harness;
  }

  private newHost(): FeedHost {
    const { registry, clock } = this;
    return new FeedHost({ store: this.backend.store, bus: this.bus, registry, log: this.logs.logger, publicUrl: PUBLIC_URL, ...(clock ? { clock } : {}) });
  }

  private async start(options: { clock?: Clock; hookBodyLimitBytes?: number }): Promise<void> {
    this.clock = options.clock;
    this.backend = await openEmbeddedBackend({ log: this.logs.logger });
    this.bus = new RecordingBus(this.backend.bus);
    this.host = this.newHost();
    await this.host.start();
    await (await NamespaceStore.open(this.backend.store)).ensureNamespace('guest', GUEST_KEY);
    this.api = await createApi({
      store: this.backend.store,
      bus: this.bus,
      registry: this.registry,
      log: this.logs.logger,
      // The API routes hooks to whichever host runs now (`restartHost` replaces it).
      hooks: { dispatchHook: (provider, feedId, request) => this.host.dispatchHook(provider, feedId, request) },
      publicUrl: PUBLIC_URL,
      ...(options.hookBodyLimitBytes ? { hookBodyLimitBytes: options.hookBodyLimitBytes } : {}),
    });
    await this.api.listen({ host: '127.0.0.1', port: 0 });
    this.baseUrl = `http://127.0.0.1:${(this.api.server.address() as AddressInfo).port}`;
  }

  async request(method: string, path: string, body?: unknown): Promise<IngressResponse> {
    const headers: Record<string, string> = { authorization: `Basic ${Buffer.from(GUEST_KEY).toString('base64')}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(this.baseUrl + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, body: text, json: () => JSON.parse(text) };
  }

  /** Creates trigger `name` with a `github/webhook` feed; returns the feed (its id, details). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async createFeed(trigger: string, params: Record<string, unknown>): Promise<any> {
    const created = await this.request('PUT', `/api/v1/namespaces/guest/triggers/${trigger}`, {});
    if (created.status !== 200) throw new Error(`creating trigger ${trigger}: ${created.status} ${created.body}`);
    const feed = await this.request('PUT', `/api/v1/namespaces/guest/feeds/${trigger}`, { provider: 'github', kind: 'webhook', params });
    if (feed.status !== 200) throw new Error(`creating the feed of ${trigger}: ${feed.status} ${feed.body}`);
    return feed.json();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async readFeed(trigger: string): Promise<any> {
    const read = await this.request('GET', `/api/v1/namespaces/guest/feeds/${trigger}`);
    if (read.status !== 200) throw new Error(`reading the feed of ${trigger}: ${read.status} ${read.body}`);
    return read.json();
  }

  /** The feed's webhook secret, as READ shows it to a user without a token. */
  async secretOf(trigger: string): Promise<string> {
    return eventually(async () => {
      const secret = (await this.readFeed(trigger)).details?.secret;
      return typeof secret === 'string' && secret !== '********' ? secret : undefined;
    }, `the secret of ${trigger}`);
  }

  /** A plain node:http POST on a kept-alive connection (fetch costs a few ms a request under jest). */
  async post(path: string, body: string | Buffer, headers: Record<string, string>): Promise<IngressResponse> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(this.baseUrl + path, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, body: text, json: () => JSON.parse(text) });
        });
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  /** Posts a delivery to `/hooks/github/<feed id>` as GitHub would. */
  async deliver(feedId: string, secret: string, delivery: Delivery): Promise<IngressResponse> {
    const body = delivery.rawBody ?? JSON.stringify(delivery.payload);
    const signingSecret = delivery.secret === undefined ? secret : delivery.secret;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/test',
      'x-github-event': delivery.event,
      'x-github-delivery': delivery.delivery ?? crypto.randomUUID(),
      ...(signingSecret === null ? {} : { 'x-hub-signature-256': signBody(signingSecret, body) }),
      ...delivery.headers,
    };
    return this.post(`/hooks/github/${feedId}`, body, headers);
  }

  /** Stops the provider host (its feeds stop, their desired state stays) and starts a new one, as a process restart would. */
  async restartHost(): Promise<void> {
    await this.host.stop();
    this.host = this.newHost();
    await this.host.start();
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.api.close();
    await this.host.stop();
    await this.backend.close();
  }
}
