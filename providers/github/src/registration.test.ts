import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeGitHubApi } from './testing/fake-github-api.js';
import { cursorValue, eventually, FakeClock } from '@kindling/provider-testkit';
import { GUEST_KEY, IngressHarness, PUBLIC_URL } from './testing/ingress-harness.js';

// github.com cannot be reached from here: these tests run the provider against a stand-in of
// GitHub's REST API (the hooks endpoints) served on a loopback port, through the feed's baseUrl.

const TOKEN = 'ghp_admintoken0123456789abcdefghijklmnopq';
const push = { ref: 'refs/heads/main', repository: { full_name: 'octo/hello' } };

describe('github/webhook registers its hook on GitHub (stand-in REST API on loopback)', () => {
  let github: FakeGitHubApi;
  let harness: IngressHarness;
  let clock: FakeClock;

  beforeEach(async () => {
    github = new FakeGitHubApi().addOwner('octo/hello').addOwner('octo/other').addOwner('org:octo').addToken(TOKEN);
    await github.start();
    clock = new FakeClock();
    harness = await IngressHarness.open({ clock });
  });

  afterEach(async () => {
    await harness.close();
    await github.stop();
    // Neither the token nor a webhook secret may reach a log line.
    expect(harness.logs.containing(TOKEN)).toEqual([]);
    for (const hook of [...github.hooks.values()].flat()) if (hook.config.secret) expect(harness.logs.containing(hook.config.secret)).toEqual([]);
  });

  const params = (extra: Record<string, unknown> = {}) => ({ repository: 'octo/hello', events: 'push,pull_request.opened', accessToken: TOKEN, baseUrl: github.url, ...extra });

  async function statusOf(trigger: string): Promise<{ status: string; reason?: string }> {
    return (await harness.readFeed(trigger)).status;
  }

  async function untilStatus(trigger: string, status: string): Promise<{ status: string; reason?: string }> {
    return eventually(async () => {
      const current = await statusOf(trigger);
      return current.status === status ? current : undefined;
    }, `feed ${trigger} to be ${status}`);
  }

  /** Runs every timer set so far (moving the clock to the last of them): how a test skips the wait for a periodic check. */
  async function runPending(): Promise<void> {
    const last = clock.pendingAt().at(-1);
    if (last !== undefined) await clock.advanceTo(last);
  }

  /** Waits until the feed's keeper sleeps (its next check is scheduled), then runs that check. */
  async function runNextCheck(): Promise<void> {
    await eventually(() => clock.pendingTimers > 0, 'the next hook check to be scheduled');
    await runPending();
  }

  async function registeredHook(trigger: string) {
    return eventually(async () => {
      const hookId = (await harness.readFeed(trigger)).details?.hookId;
      return typeof hookId === 'number' ? github.hooksOf('octo/hello').find((hook) => hook.id === hookId) : undefined;
    }, `the hook of ${trigger}`);
  }

  it('CREATE registers one hook at the feed URL with a generated secret, JSON content and the events; deliveries signed with it fire', async () => {
    const feed = await harness.createFeed('pushes', params());
    const hook = await registeredHook('pushes');
    expect(github.callsTo('POST')).toEqual([
      {
        method: 'POST',
        path: '/repos/octo/hello/hooks',
        authorization: `token ${TOKEN}`,
        body: { name: 'web', active: true, events: ['pull_request', 'push'], config: { url: `${PUBLIC_URL}/hooks/github/${feed.id}`, content_type: 'json', secret: expect.stringMatching(/^[0-9a-f]{64}$/), insecure_ssl: '0' } },
      },
    ]);
    expect(github.hooksOf('octo/hello')).toHaveLength(1);
    await untilStatus('pushes', 'active');
    const read = await harness.readFeed('pushes');
    expect(read.params.accessToken).toBe('********');
    expect(read.details).toMatchObject({ payloadUrl: hook.config.url, secret: '********', hookId: hook.id });

    const delivered = await harness.deliver(feed.id, hook.config.secret as string, { event: 'push', payload: push });
    expect(delivered.status).toBe(202);
  });

  it('a restart neither duplicates nor forgets the hook: the stored one is updated in place', async () => {
    await harness.createFeed('pushes', params());
    const hook = await registeredHook('pushes');
    await harness.restartHost();
    await eventually(() => github.callsTo('PATCH').length === 1, 'the restarted feed to update its hook');
    expect(github.callsTo('POST')).toHaveLength(1);
    expect(github.callsTo('PATCH')[0]?.path).toBe(`/repos/octo/hello/hooks/${hook.id}`);
    expect(github.hooksOf('octo/hello').map((h) => h.id)).toEqual([hook.id]);
  });

  it('UPDATE changes the events of the same hook', async () => {
    await harness.createFeed('pushes', params());
    const hook = await registeredHook('pushes');
    const updated = await harness.request('PUT', '/api/v1/namespaces/guest/feeds/pushes?overwrite=true', { params: { events: ['release', 'issues.opened'] } });
    expect(updated.status).toBe(200);
    await eventually(() => hook.events.join() === 'issues,release', 'the hook to get the new events');
    expect(github.callsTo('POST')).toHaveLength(1);
    expect(github.hooksOf('octo/hello')).toHaveLength(1);
  });

  it('repairs a hook deleted on GitHub at its next periodic check, keeping the secret', async () => {
    const feed = await harness.createFeed('pushes', params());
    const hook = await registeredHook('pushes');
    github.hooksOf('octo/hello').splice(0);
    await runNextCheck();
    const repaired = await eventually(() => github.hooksOf('octo/hello')[0], 'a new hook');
    expect(repaired.id).not.toBe(hook.id);
    expect(repaired.config).toEqual(hook.config);
    expect(github.calls.map((call) => call.method).slice(-3)).toEqual(['GET', 'GET', 'POST']);
    await eventually(async () => (await harness.readFeed('pushes')).details.hookId === repaired.id, 'READ to show the new hook id');
    expect((await harness.deliver(feed.id, repaired.config.secret as string, { event: 'push', payload: push })).status).toBe(202);
  });

  it('repairs a hook changed by hand (events, active, secret removed) at its next periodic check', async () => {
    await harness.createFeed('pushes', params());
    const hook = await registeredHook('pushes');
    const secret = hook.config.secret;
    Object.assign(hook, { active: false, events: ['push'] });
    delete hook.config.secret;
    await runNextCheck();
    await eventually(() => hook.active && hook.config.secret === secret && hook.events.join() === 'pull_request,push', 'the hook to be restored');
    expect(github.hooksOf('octo/hello')).toHaveLength(1);
  });

  it('repairs a hook deleted while the platform was down when it starts again', async () => {
    await harness.createFeed('pushes', params());
    await registeredHook('pushes');
    await harness.host.stop();
    github.hooksOf('octo/hello').splice(0);
    await harness.restartHost();
    await eventually(() => github.hooksOf('octo/hello').length === 1, 'the hook to be registered again');
    expect(github.callsTo('POST')).toHaveLength(2);
  });

  it('DELETE removes exactly the stored hook, and a hook already gone is fine', async () => {
    github.addHook('octo/hello', { url: 'https://ci.example/hook', events: ['push'] });
    await harness.createFeed('pushes', params());
    const hook = await registeredHook('pushes');
    expect((await harness.request('DELETE', '/api/v1/namespaces/guest/triggers/pushes')).status).toBe(200);
    await eventually(() => github.callsTo('DELETE').length === 1, 'the hook to be deleted');
    expect(github.callsTo('DELETE')[0]?.path).toBe(`/repos/octo/hello/hooks/${hook.id}`);
    expect(github.hooksOf('octo/hello').map((h) => h.config.url)).toEqual(['https://ci.example/hook']);

    await harness.createFeed('again', params());
    const second = await registeredHook('again');
    github.hooksOf('octo/hello').splice(github.hooksOf('octo/hello').indexOf(second), 1);
    expect((await harness.request('DELETE', '/api/v1/namespaces/guest/triggers/again')).status).toBe(200);
    await eventually(async () => (await harness.request('GET', '/api/v1/namespaces/guest/feeds/again')).status === 404, 'the feed to be removed');
    expect(harness.logs.containing('feed teardown failed')).toEqual([]);
  });

  it('adopts a hook a user created by hand at the feed URL (and removes a duplicate) instead of adding another', async () => {
    const feed = await harness.createFeed('by-hand', { repository: 'octo/hello', events: 'push' });
    const secret = await harness.secretOf('by-hand');
    const first = github.addHook('octo/hello', { url: `${PUBLIC_URL}/hooks/github/${feed.id}`, events: ['push'], secret: 'pasted-wrong' });
    const duplicate = github.addHook('octo/hello', { url: `${PUBLIC_URL}/hooks/github/${feed.id}`, events: ['push'] });
    const updated = await harness.request('PUT', '/api/v1/namespaces/guest/feeds/by-hand?overwrite=true', { params: { accessToken: TOKEN, baseUrl: github.url } });
    expect(updated.status).toBe(200);
    await eventually(() => github.callsTo('DELETE').length === 1, 'the duplicate to be removed');
    expect(github.callsTo('POST')).toEqual([]);
    expect(github.callsTo('DELETE')[0]?.path).toBe(`/repos/octo/hello/hooks/${duplicate.id}`);
    expect(github.hooksOf('octo/hello')).toEqual([expect.objectContaining({ id: first.id, config: expect.objectContaining({ secret, content_type: 'json' }) })]);
    await eventually(async () => (await harness.readFeed('by-hand')).details.hookId === first.id, 'READ to show the adopted hook');
  });

  it('a revoked token disables the feed with GitHub\'s message, and it is not retried', async () => {
    await harness.createFeed('pushes', params());
    await registeredHook('pushes');
    github.tokens.delete(TOKEN);
    await runNextCheck();
    const status = await untilStatus('pushes', 'disabled');
    expect(status.reason).toMatch(/^GitHub refused the access token \(401\) while checking the hook on repository octo\/hello: Bad credentials/);
    const calls = github.calls.length;
    await runPending();
    await harness.host.settled();
    expect(github.calls.length).toBe(calls);
  });

  it('a token without admin rights, or a repository that does not exist, disables the feed at CREATE with a clear reason', async () => {
    github.readOnlyTokens.add('ghp_readonly');
    await harness.createFeed('no-rights', params({ accessToken: 'ghp_readonly' }));
    expect((await untilStatus('no-rights', 'disabled')).reason).toMatch(/^repository octo\/hello was not found on GitHub \(404\) while registering the hook: it does not exist, or the token has no admin rights on it/);
    await harness.createFeed('missing', params({ repository: 'octo/missing' }));
    expect((await untilStatus('missing', 'disabled')).reason).toMatch(/^repository octo\/missing was not found/);
  });

  it('a rate limit leaves the feed failing until GitHub\'s reset time, while deliveries still fire; then it registers', async () => {
    const reset = Math.floor(Date.now() / 1000) + 1800;
    github.failNext({ status: 403, message: 'API rate limit exceeded for user ID 1.', headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) } });
    const feed = await harness.createFeed('pushes', params());
    const failing = await untilStatus('pushes', 'failing');
    expect(failing.reason).toContain(`GitHub rate limit reached while registering the hook on repository octo/hello; retrying after ${new Date(reset * 1000).toISOString()}`);
    const secret = await eventually(() => readSecret(feed.id), 'the stored secret');
    expect((await harness.deliver(feed.id, secret, { event: 'push', payload: push })).status).toBe(202);
    await runNextCheck();
    await untilStatus('pushes', 'active');
    expect(github.hooksOf('octo/hello')).toHaveLength(1);
  });

  it('a GitHub outage (5xx) leaves the feed failing and is retried', async () => {
    github.failNext({ status: 502, message: 'Server Error' });
    await harness.createFeed('pushes', params());
    expect((await untilStatus('pushes', 'failing')).reason).toMatch(/GitHub failed while registering the hook on repository octo\/hello \(502\): Server Error.*; retrying/);
    await runNextCheck();
    await untilStatus('pushes', 'active');
    expect(github.hooksOf('octo/hello')).toHaveLength(1);
  });

  it('moving the feed to another repository (UPDATE) removes the old hook and registers a new one there', async () => {
    await harness.createFeed('pushes', params());
    await registeredHook('pushes');
    expect((await harness.request('PUT', '/api/v1/namespaces/guest/feeds/pushes?overwrite=true', { params: { repository: 'octo/other' } })).status).toBe(200);
    await eventually(() => github.hooksOf('octo/hello').length === 0 && github.hooksOf('octo/other').length === 1, 'the hook to move');
  });

  it('an organisation feed registers an organisation hook', async () => {
    await harness.createFeed('org-wide', { organization: 'octo', events: 'repository', accessToken: TOKEN, baseUrl: github.url });
    await eventually(() => github.hooksOf('org:octo').length === 1, 'the organisation hook');
    expect(github.callsTo('POST')[0]?.path).toBe('/orgs/octo/hooks');
    expect(github.hooksOf('org:octo')[0]?.events).toEqual(['repository']);
  });

  it('the OpenWhisk feed action /whisk.system/github/webhook takes username + repository, as OpenWhisk\'s did', async () => {
    expect((await harness.request('PUT', '/api/v1/namespaces/guest/triggers/ow-pushes', {})).status).toBe(200);
    const invoked = await harness.request('POST', '/api/v1/namespaces/whisk.system/actions/github/webhook?blocking=true', {
      lifecycleEvent: 'CREATE',
      triggerName: '/_/ow-pushes',
      authKey: GUEST_KEY,
      username: 'octo',
      repository: 'hello',
      accessToken: TOKEN,
      events: 'push,pull_request',
      baseUrl: github.url,
    });
    expect(invoked.status).toBe(200);
    await eventually(() => github.hooksOf('octo/hello').length === 1, 'the hook');
    expect(github.hooksOf('octo/hello')[0]?.events).toEqual(['pull_request', 'push']);
  });

  /** The secret as the feed stored it (READ masks it when the feed has a token). */
  async function readSecret(feedId: string): Promise<string | undefined> {
    const bucket = await harness.backend.store.bucket('kindling_cursors');
    const entry = await bucket.get(feedId);
    return entry ? (cursorValue(JSON.parse(Buffer.from(entry.value).toString('utf8'))) as { secret: string }).secret : undefined;
  }
});
