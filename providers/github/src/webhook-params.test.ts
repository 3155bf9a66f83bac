import { describe, expect, it } from '@jest/globals';
import { silentLogger } from '@kindling/sdk';
import { ProviderRegistry } from '@kindling/provider-testkit';
import { githubProvider } from './github-provider.js';
import { eventSelectorOf, hookTargetOf, type WebhookParams } from './webhook-params.js';

const registry = new ProviderRegistry([githubProvider]);

async function validate(params: Record<string, unknown>): Promise<WebhookParams> {
  return (await registry.validateParams('github', 'webhook', params, { log: silentLogger(), signal: new AbortController().signal })) as WebhookParams;
}

async function refusal(params: Record<string, unknown>): Promise<{ field?: string; message: string }> {
  try {
    await validate(params);
  } catch (error) {
    const { field, message } = error as { field?: string; message: string };
    return { field, message };
  }
  throw new Error(`accepted ${JSON.stringify(params)}`);
}

describe('github/webhook parameters', () => {
  it('takes a repository as owner/name, or an organisation, and keeps the values as given', async () => {
    expect(await validate({ repository: 'octo/hello', events: 'push, pull_request.opened' })).toEqual({ repository: 'octo/hello', events: 'push, pull_request.opened' });
    expect(hookTargetOf(await validate({ repository: 'octo/hello.js' }))).toEqual({ kind: 'repository', owner: 'octo', repo: 'hello.js' });
    expect(hookTargetOf(await validate({ organization: 'octo-org' }))).toEqual({ kind: 'organization', org: 'octo-org' });
  });

  it("takes OpenWhisk's username + repository (the name alone)", async () => {
    expect(hookTargetOf(await validate({ username: 'octo', repository: 'hello', accessToken: 't' }))).toEqual({ kind: 'repository', owner: 'octo', repo: 'hello' });
    // With owner/name, OpenWhisk's username was only the login the token belongs to.
    expect(hookTargetOf(await validate({ username: 'someone', repository: 'octo/hello' }))).toEqual({ kind: 'repository', owner: 'octo', repo: 'hello' });
  });

  it('refuses what names no place, or two, naming the field', async () => {
    expect(await refusal({ events: 'push' })).toEqual({ field: 'repository', message: expect.stringContaining("'repository': is required") });
    expect(await refusal({ repository: 'hello' })).toEqual({ field: 'repository', message: expect.stringContaining('names no owner') });
    expect(await refusal({ repository: 'octo/hello', organization: 'octo' })).toEqual({ field: 'organization', message: expect.stringContaining('not both') });
    expect(await refusal({ repository: 'a/b/c' })).toEqual({ field: 'repository', message: expect.stringContaining('must be owner/name') });
    expect(await refusal({ repository: '-octo/hello' })).toEqual({ field: 'repository', message: expect.stringContaining('is not a GitHub login') });
    expect(await refusal({ repository: 'octo/hel lo' })).toEqual({ field: 'repository', message: expect.stringContaining('is not a repository name') });
    expect(await refusal({ organization: 'octo', username: 'x' })).toEqual({ field: 'username', message: expect.stringContaining('goes with repository') });
  });

  it('refuses unknown fields, a bad baseUrl and an empty token', async () => {
    expect(await refusal({ repository: 'octo/hello', secret: 'x' })).toEqual({ field: 'secret', message: "unknown field 'secret'" });
    expect((await refusal({ repository: 'octo/hello', baseUrl: 'ftp://ghe.example' })).field).toBe('baseUrl');
    expect((await refusal({ repository: 'octo/hello', accessToken: '' })).field).toBe('accessToken');
  });

  it('checks event names and actions against the ones GitHub sends, saying what it does send', async () => {
    expect(await refusal({ repository: 'octo/hello', events: 'push,pull_requests' })).toEqual({ field: 'events', message: expect.stringContaining("'pull_requests' is not a GitHub webhook event") });
    expect((await refusal({ repository: 'octo/hello', events: ['pull_request.merged'] })).message).toMatch(/'merged' is not an action of 'pull_request' events; GitHub sends: .*closed.*opened/);
    expect((await refusal({ repository: 'octo/hello', events: 'push.created' })).message).toContain("'push' events carry no action: use 'push' alone");
    expect((await refusal({ repository: 'octo/hello', events: 'ping' })).message).toContain("'ping' cannot be chosen");
    expect((await refusal({ repository: 'octo/hello', events: ' , ' })).message).toContain('must name at least one event');
    expect((await refusal({ repository: 'octo/hello', events: 42 })).message).toContain('must be a list of GitHub event names');
    // repository_dispatch's action is the event_type its sender chose.
    await expect(validate({ repository: 'octo/hello', events: 'repository_dispatch.deploy-now' })).resolves.toBeDefined();
  });

  it('subscribes the hook to event names only, filtering actions itself; push by default, * for all', async () => {
    const selector = eventSelectorOf(await validate({ repository: 'octo/hello', events: ['pull_request.opened', 'pull_request.reopened', 'issues'] }));
    expect(selector.hookEvents()).toEqual(['issues', 'pull_request']);
    expect([selector.accepts('pull_request', 'opened'), selector.accepts('pull_request', 'closed'), selector.accepts('issues', 'deleted'), selector.accepts('push', undefined)]).toEqual([true, false, true, false]);
    expect(eventSelectorOf(await validate({ repository: 'octo/hello' })).hookEvents()).toEqual(['push']);
    const all = eventSelectorOf(await validate({ repository: 'octo/hello', events: '*' }));
    expect([all.hookEvents(), all.accepts('star', 'created')]).toEqual([['*'], true]);
  });
});
