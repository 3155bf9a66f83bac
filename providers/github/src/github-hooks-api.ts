import { scrubSecrets, type Logger } from '@kindling/core';
import { Octokit } from '@octokit/rest';
import type { HookTarget } from './webhook-params.js';

/** A call to GitHub that takes longer than this is abandoned (and retried later). */
export const GITHUB_CALL_TIMEOUT_MS = 15_000;

export interface GitHubHook {
  id: number;
  active: boolean;
  events: string[];
  /** GitHub shows a secret that is set as `********`, and leaves it out when none is set. */
  config: { url?: string; content_type?: string; insecure_ssl?: string | number; secret?: string };
}

/** The hook as Kindling wants it. */
export interface DesiredHook {
  url: string;
  secret: string;
  events: string[];
}

export interface GitHubHooksApiOptions {
  apiUrl: string;
  token: string;
  /** `hooksPathOf(target)`, or a path stored with a hook id. */
  path: string;
  log: Logger;
  signal: AbortSignal;
}

/** `repos/octo/hello/hooks` or `orgs/octo/hooks`, as stored with a hook id. */
export function hooksPathOf(target: HookTarget): string {
  const segment = encodeURIComponent;
  return target.kind === 'repository' ? `repos/${segment(target.owner)}/${segment(target.repo)}/hooks` : `orgs/${segment(target.org)}/hooks`;
}

/**
 * The REST calls on the hooks of one repository or organisation, through Octokit. A hook that is
 * not there is `undefined`/`false`, not an error; every other failure is Octokit's `RequestError`
 * (classified by `githubFailure`). Octokit's own log is kept quiet: its debug lines carry the
 * request headers, token included.
 */
export class GitHubHooksApi {
  readonly path: string;
  private readonly octokit: InstanceType<typeof Octokit>;

  constructor(private readonly options: GitHubHooksApiOptions) {
    this.path = options.path;
    const quiet = () => undefined;
    this.octokit = new Octokit({
      auth: options.token,
      baseUrl: options.apiUrl,
      userAgent: 'kindling-github',
      log: { debug: quiet, info: quiet, error: quiet, warn: (message: string) => options.log.warn({ octokit: scrubSecrets(message, [options.token]) }, 'Octokit warning') },
    });
  }

  private request(): { signal: AbortSignal } {
    return { signal: AbortSignal.any([this.options.signal, AbortSignal.timeout(GITHUB_CALL_TIMEOUT_MS)]) };
  }

  async list(): Promise<GitHubHook[]> {
    return this.octokit.paginate(`GET /${this.path}`, { per_page: 100, request: this.request() });
  }

  async get(id: number): Promise<GitHubHook | undefined> {
    return this.unlessMissing(async () => (await this.octokit.request(`GET /${this.path}/{hook_id}`, { hook_id: id, request: this.request() })).data);
  }

  async create(hook: DesiredHook): Promise<GitHubHook> {
    const body = { name: 'web', active: true, events: hook.events, config: { url: hook.url, content_type: 'json', secret: hook.secret, insecure_ssl: '0' } };
    return (await this.octokit.request(`POST /${this.path}`, { ...body, request: this.request() })).data;
  }

  /** Sets our URL, secret, events and `active`; keeps the hook's TLS setting (a user may have relaxed it). */
  async update(id: number, hook: DesiredHook, insecureSsl: string | number = '0'): Promise<GitHubHook | undefined> {
    const body = { active: true, events: hook.events, config: { url: hook.url, content_type: 'json', secret: hook.secret, insecure_ssl: String(insecureSsl) } };
    return this.unlessMissing(async () => (await this.octokit.request(`PATCH /${this.path}/{hook_id}`, { hook_id: id, ...body, request: this.request() })).data);
  }

  /** False when the hook was already gone. */
  async delete(id: number): Promise<boolean> {
    const deleted = await this.unlessMissing(async () => {
      await this.octokit.request(`DELETE /${this.path}/{hook_id}`, { hook_id: id, request: this.request() });
      return true;
    });
    return deleted ?? false;
  }

  private async unlessMissing<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) return undefined;
      throw error;
    }
  }
}
