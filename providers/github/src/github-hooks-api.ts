import { scrubSecrets, type Logger } from '@kindling/sdk';
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

  /**
   * Runs one call (all pages of a list) with a deadline, aborted as well when the feed stops. The
   * deadline is a timer of our own, cleared when the call ends: `AbortSignal.timeout` would keep
   * its timer running after a stopped feed.
   */
  private async withDeadline<T>(call: (request: { signal: AbortSignal }) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const feedStopped = () => controller.abort(this.options.signal.reason);
    if (this.options.signal.aborted) feedStopped();
    else this.options.signal.addEventListener('abort', feedStopped, { once: true });
    const timer = setTimeout(() => controller.abort(new Error(`GitHub did not answer within ${GITHUB_CALL_TIMEOUT_MS} ms`)), GITHUB_CALL_TIMEOUT_MS);
    try {
      return await call({ signal: controller.signal });
    } finally {
      clearTimeout(timer);
      this.options.signal.removeEventListener('abort', feedStopped);
    }
  }

  async list(): Promise<GitHubHook[]> {
    return this.withDeadline((request) => this.octokit.paginate(`GET /${this.path}`, { per_page: 100, request }));
  }

  async get(id: number): Promise<GitHubHook | undefined> {
    return this.unlessMissing(async (request) => (await this.octokit.request(`GET /${this.path}/{hook_id}`, { hook_id: id, request })).data);
  }

  async create(hook: DesiredHook): Promise<GitHubHook> {
    const body = { name: 'web', active: true, events: hook.events, config: { url: hook.url, content_type: 'json', secret: hook.secret, insecure_ssl: '0' } };
    return this.withDeadline(async (request) => (await this.octokit.request(`POST /${this.path}`, { ...body, request })).data);
  }

  /** Sets our URL, secret, events and `active`; keeps the hook's TLS setting (a user may have relaxed it). */
  async update(id: number, hook: DesiredHook, insecureSsl: string | number = '0'): Promise<GitHubHook | undefined> {
    const body = { active: true, events: hook.events, config: { url: hook.url, content_type: 'json', secret: hook.secret, insecure_ssl: String(insecureSsl) } };
    return this.unlessMissing(async (request) => (await this.octokit.request(`PATCH /${this.path}/{hook_id}`, { hook_id: id, ...body, request })).data);
  }

  /** False when the hook was already gone. */
  async delete(id: number): Promise<boolean> {
    const deleted = await this.unlessMissing(async (request) => {
      await this.octokit.request(`DELETE /${this.path}/{hook_id}`, { hook_id: id, request });
      return true;
    });
    return deleted ?? false;
  }

  private async unlessMissing<T>(call: (request: { signal: AbortSignal }) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.withDeadline(call);
    } catch (error) {
      if ((error as { status?: unknown }).status === 404) return undefined;
      throw error;
    }
  }
}
