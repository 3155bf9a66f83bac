import { z } from '@kindling/sdk';
import { EventSelector, eventEntries, eventEntryProblem } from './github-events.js';

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';
/** GitHub's own default for a new hook. */
export const DEFAULT_EVENTS = ['push'];

/** Parameters that are secrets: masked on READ, never logged, never in a status reason. */
export const WEBHOOK_SECRETS = ['accessToken'] as const;

/** A user or organisation login: letters, digits and single hyphens, at most 39 characters. */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const REPOSITORY_NAME = /^[A-Za-z0-9._-]{1,100}$/;

const login = (what: string) => z.string().regex(LOGIN, `must be a GitHub ${what} login (letters, digits and hyphens)`);

/**
 * Values keep the form the user gave (`events` stays the string or list it was) so that READ
 * shows them back unchanged; they are interpreted when the feed starts.
 */
export const webhookParams = z
  .strictObject({
    repository: z.string().min(1, 'must not be empty').describe('owner/name, or the name alone with username (OpenWhisk)').optional(),
    organization: login('organization').describe('an organisation: its hook sees the events of all its repositories').optional(),
    username: login('user').describe("OpenWhisk's name for the repository owner").optional(),
    events: z
      .union([z.string(), z.array(z.string())], { error: 'must be a list of GitHub event names, or one string of them separated by commas' })
      .describe('push, pull_request, pull_request.opened (one action), * (all); default push')
      .optional(),
    accessToken: z
      .string()
      .min(1, 'must not be empty')
      .describe('a token with admin rights on the hooks: the provider then registers the hook itself')
      .optional(),
    baseUrl: z
      .url({ protocol: /^https?$/, error: 'must be the http(s) URL of a GitHub API, such as https://ghe.example.com/api/v3' })
      .describe('GitHub Enterprise API URL; default https://api.github.com')
      .optional(),
  })
  .superRefine((params, ctx) => {
    const problem = targetProblem(params);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
    if (params.events !== undefined) {
      const entries = eventEntries(params.events);
      if (entries.length === 0) ctx.addIssue({ code: 'custom', path: ['events'], message: 'must name at least one event, or * for all' });
      for (const entry of entries) {
        const why = eventEntryProblem(entry);
        if (why) ctx.addIssue({ code: 'custom', path: ['events'], message: why });
      }
    }
  });

export type WebhookParams = z.output<typeof webhookParams>;

/** Where the hook lives: a repository, or an organisation. */
export type HookTarget = { kind: 'repository'; owner: string; repo: string } | { kind: 'organization'; org: string };

function targetProblem(params: WebhookParams): { field: string; message: string } | undefined {
  const { repository, organization, username } = params;
  if (repository === undefined) {
    if (organization !== undefined) return username === undefined ? undefined : { field: 'username', message: 'goes with repository (its owner), not with organization' };
    return { field: 'repository', message: 'is required: give owner/name (or organization for an organisation-wide hook)' };
  }
  if (organization !== undefined) return { field: 'organization', message: 'give either repository or organization, not both' };
  const parts = repository.split('/');
  if (parts.length > 2) return { field: 'repository', message: `must be owner/name, not '${repository}'` };
  const [owner, name] = parts.length === 2 ? parts : [username, parts[0]];
  if (owner === undefined) return { field: 'repository', message: `must be owner/name; '${repository}' names no owner (or give the owner as username)` };
  if (!LOGIN.test(owner)) return { field: parts.length === 2 ? 'repository' : 'username', message: `'${owner}' is not a GitHub login (letters, digits and hyphens)` };
  if (!name || !REPOSITORY_NAME.test(name) || name === '.' || name === '..') {
    return { field: 'repository', message: `'${name ?? ''}' is not a repository name (letters, digits, '.', '-' and '_')` };
  }
  return undefined;
}

/** The hook's place; params must have passed `webhookParams`. */
export function hookTargetOf(params: WebhookParams): HookTarget {
  if (params.repository === undefined) return { kind: 'organization', org: params.organization as string };
  const parts = params.repository.split('/');
  return parts.length === 2 ? { kind: 'repository', owner: parts[0] as string, repo: parts[1] as string } : { kind: 'repository', owner: params.username as string, repo: parts[0] as string };
}

/** `octo/hello` or `octo` (an organisation): the events' subject when a payload names neither. */
export function targetName(target: HookTarget): string {
  return target.kind === 'repository' ? `${target.owner}/${target.repo}` : target.org;
}

export function eventSelectorOf(params: WebhookParams): EventSelector {
  return new EventSelector(params.events === undefined ? DEFAULT_EVENTS : eventEntries(params.events));
}

export function apiUrlOf(params: WebhookParams): string {
  return (params.baseUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, '');
}
