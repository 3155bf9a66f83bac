import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for GitHub's REST API (the hooks endpoints of repositories and organisations),
 * served on a loopback port, because github.com cannot be reached from here. It keeps hooks in
 * memory, answers as GitHub does (a set secret reads back as `********`, 401 `Bad credentials`,
 * 404 `Not Found`, Link-header pagination) and records every call, so that tests can assert
 * what the provider asked GitHub to do.
 */
export interface FakeHook {
  id: number;
  name: 'web';
  active: boolean;
  events: string[];
  config: { url: string; content_type: string; insecure_ssl: string; secret?: string };
  created_at: string;
  updated_at: string;
}

export interface RecordedCall {
  method: string;
  /** Path without the query: `/repos/octo/hello/hooks/1`. */
  path: string;
  body?: Record<string, unknown>;
  authorization?: string;
}

export interface InjectedFailure {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

export class FakeGitHubApi {
  readonly calls: RecordedCall[] = [];
  /** Hooks by owner path: `repos/octo/hello` or `orgs/octo`. */
  readonly hooks = new Map<string, FakeHook[]>();
  readonly tokens = new Set<string>();
  /** Tokens that are valid but have no admin rights on the hooks (403). */
  readonly readOnlyTokens = new Set<string>();
  private readonly failures: InjectedFailure[] = [];
  private nextId = 1000;
  private server?: Server;
  url = '';

  /** A repository (`octo/hello`) or organisation (`org:octo`) that exists, with no hooks yet. */
  addOwner(name: string): this {
    this.hooks.set(name.startsWith('org:') ? `orgs/${name.slice(4)}` : `repos/${name}`, []);
    return this;
  }

  addToken(token: string): this {
    this.tokens.add(token);
    return this;
  }

  /** Creates a hook as a user would on GitHub's settings page; returns it. */
  addHook(owner: string, hook: { url: string; events?: string[]; secret?: string; active?: boolean }): FakeHook {
    const list = this.hooks.get(owner.startsWith('org:') ? `orgs/${owner.slice(4)}` : `repos/${owner}`);
    if (!list) throw new Error(`no such owner ${owner}`);
    const now = new Date().toISOString();
    const created: FakeHook = {
      id: this.nextId++,
      name: 'web',
      active: hook.active ?? true,
      events: hook.events ?? ['push'],
      config: { url: hook.url, content_type: 'form', insecure_ssl: '0', ...(hook.secret ? { secret: hook.secret } : {}) },
      created_at: now,
      updated_at: now,
    };
    list.push(created);
    return created;
  }

  /** Every hook of a repository (`octo/hello`) or organisation (`org:octo`), as stored (secrets in clear). */
  hooksOf(owner: string): FakeHook[] {
    return this.hooks.get(owner.startsWith('org:') ? `orgs/${owner.slice(4)}` : `repos/${owner}`) ?? [];
  }

  /** The next requests (one per entry) get these answers instead. */
  failNext(...failures: InjectedFailure[]): void {
    this.failures.push(...failures);
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', 'http://localhost');
    const call: RecordedCall = { method: request.method ?? 'GET', path: url.pathname };
    if (text) call.body = JSON.parse(text) as Record<string, unknown>;
    if (request.headers.authorization) call.authorization = request.headers.authorization;
    this.calls.push(call);
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3', ...headers });
      response.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const failure = this.failures.shift();
    if (failure) return send(failure.status, { message: failure.message, documentation_url: 'https://docs.github.com/rest' }, failure.headers);
    const token = /^(?:token|bearer) (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!token || (!this.tokens.has(token) && !this.readOnlyTokens.has(token))) {
      return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    }
    const match = /^\/(repos\/[^/]+\/[^/]+|orgs\/[^/]+)\/hooks(?:\/(\d+))?$/.exec(url.pathname);
    const list = match ? this.hooks.get(decodeURIComponent(match[1] as string)) : undefined;
    if (!match || !list) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    if (this.readOnlyTokens.has(token)) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    const id = match[2] === undefined ? undefined : Number(match[2]);
    const hook = id === undefined ? undefined : list.find((h) => h.id === id);
    const body = (call.body ?? {}) as { events?: string[]; active?: boolean; config?: Record<string, string> };

    if (id === undefined && call.method === 'GET') {
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      const pages = Math.max(1, Math.ceil(list.length / perPage));
      const headers: Record<string, string> = {};
      if (page < pages) headers.link = `<${this.url}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next", <${this.url}${url.pathname}?per_page=${perPage}&page=${pages}>; rel="last"`;
      return send(200, list.slice((page - 1) * perPage, page * perPage).map(view), headers);
    }
    if (id === undefined && call.method === 'POST') {
      const config = body.config ?? {};
      if (!config.url) return send(422, { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'Config must have a url' }] });
      if (list.some((h) => h.config.url === config.url && sameEvents(h.events, body.events ?? ['push']))) {
        return send(422, { message: 'Validation Failed', errors: [{ resource: 'Hook', code: 'custom', message: 'Hook already exists on this repository' }] });
      }
      const now = new Date().toISOString();
      const created: FakeHook = {
        id: this.nextId++,
        name: 'web',
        active: body.active ?? true,
        events: body.events ?? ['push'],
        config: { url: config.url, content_type: config.content_type ?? 'form', insecure_ssl: String(config.insecure_ssl ?? '0'), ...(config.secret ? { secret: config.secret } : {}) },
        created_at: now,
        updated_at: now,
      };
      list.push(created);
      return send(201, view(created));
    }
    if (!hook) return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    if (call.method === 'GET') return send(200, view(hook));
    if (call.method === 'PATCH') {
      if (body.config) {
        const config = body.config;
        hook.config = { url: config.url ?? hook.config.url, content_type: config.content_type ?? 'form', insecure_ssl: String(config.insecure_ssl ?? '0'), ...(config.secret ? { secret: config.secret } : {}) };
      }
      if (body.events) hook.events = body.events;
      if (body.active !== undefined) hook.active = body.active;
      hook.updated_at = new Date().toISOString();
      return send(200, view(hook));
    }
    if (call.method === 'DELETE') {
      list.splice(list.indexOf(hook), 1);
      response.writeHead(204);
      return void response.end();
    }
    return send(404, { message: 'Not Found' });
  }
}

function sameEvents(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((event) => b.includes(event));
}

/** What GitHub shows of a hook: a secret that is set reads back masked. */
function view(hook: FakeHook): Record<string, unknown> {
  const { secret, ...config } = hook.config;
  return { type: 'Repository', ...hook, config: secret === undefined ? config : { ...config, secret: '********' } };
}
