import type { Logger } from '@kindling/sdk';
import type { RegisteredHook } from './feed-state.js';
import type { DesiredHook, GitHubHook, GitHubHooksApi } from './github-hooks-api.js';

export type EnsureOutcome = 'created' | 'adopted' | 'updated';

/** How a hook on GitHub differs from the one wanted (its secret can only be seen as set or not). */
export function hookDrift(hook: GitHubHook, desired: DesiredHook): string[] {
  const drift: string[] = [];
  if (hook.config.url !== desired.url) drift.push('url');
  if (hook.config.content_type !== 'json') drift.push('content_type');
  if (hook.config.secret === undefined) drift.push('secret');
  if (!hook.active) drift.push('active');
  const events = new Set(hook.events);
  if (events.size !== desired.events.length || desired.events.some((event) => !events.has(event))) drift.push('events');
  return drift;
}

/**
 * Brings the hooks of one repository or organisation in line with the feed, level-triggered:
 * exactly one hook points at the feed's URL, with its secret and events. The stored hook is
 * updated; failing that, a hook someone (or a crashed earlier start) left at our URL is adopted
 * rather than duplicated; failing that, one is created. Other hooks at our URL are removed.
 */
export class HookRegistrar {
  constructor(
    private readonly api: GitHubHooksApi,
    private readonly desired: DesiredHook,
    private readonly apiUrl: string,
    private readonly log: Logger,
  ) {}

  /** True when `hook` was registered where this registrar works (same API, same repository or organisation). */
  owns(hook: RegisteredHook): boolean {
    return hook.path === this.api.path && hook.apiUrl === this.apiUrl;
  }

  async ensure(stored: RegisteredHook | undefined): Promise<{ hook: RegisteredHook; outcome: EnsureOutcome }> {
    const storedId = stored && this.owns(stored) ? stored.id : undefined;
    const hooks = await this.api.list();
    const atOurUrl = hooks.filter((hook) => hook.config.url === this.desired.url);
    const keep = hooks.find((hook) => hook.id === storedId) ?? atOurUrl[0];
    let id: number | undefined;
    let outcome: EnsureOutcome = 'created';
    if (keep && (await this.api.update(keep.id, this.desired, keep.config.insecure_ssl))) {
      id = keep.id;
      outcome = keep.id === storedId ? 'updated' : 'adopted';
    }
    if (id === undefined) id = (await this.api.create(this.desired)).id;
    for (const extra of atOurUrl) {
      if (extra.id === id) continue;
      await this.api.delete(extra.id);
      this.log.warn({ hookId: extra.id }, 'removed a second hook pointing at this feed');
    }
    return { hook: { id, path: this.api.path, apiUrl: this.apiUrl }, outcome };
  }

  /** The cheap periodic check: one GET of the stored hook. Empty when it is as wanted; `['missing']` when it is gone. */
  async check(stored: RegisteredHook): Promise<string[]> {
    const hook = await this.api.get(stored.id);
    return hook ? hookDrift(hook, this.desired) : ['missing'];
  }
}
