import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CloudEvent } from '@kindling/sdk';
import { eventually } from '@kindling/provider-testkit';
import { IngressHarness, signBody } from './testing/ingress-harness.js';

interface WebhookDefinition {
  name: string;
  examples: Record<string, unknown>[];
}

/** Real GitHub payloads, as `@octokit/webhooks-examples` ships them (its main file is the JSON). */
const definitions = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('@octokit/webhooks-examples'), 'utf8')) as WebhookDefinition[];

function expectedType(name: string, payload: Record<string, unknown>): string {
  return typeof payload.action === 'string' ? `com.github.${name}.${payload.action}` : `com.github.${name}`;
}

function expectedSubject(payload: Record<string, unknown>, fallback: string): string {
  const repository = payload.repository as { full_name?: string } | undefined;
  const organization = payload.organization as { login?: string } | undefined;
  return repository?.full_name ?? organization?.login ?? fallback;
}

describe('github/webhook ingress (createApi + FeedHost + embedded backend, over loopback HTTP)', () => {
  let harness: IngressHarness;

  beforeAll(async () => {
    harness = await IngressHarness.open();
  });

  afterAll(async () => {
    await harness.close();
  });

  it('turns every example payload of @octokit/webhooks-examples into the right event, and a second post of a delivery fires nothing', async () => {
    const feed = await harness.createFeed('all-events', { repository: 'octo/hello', events: '*' });
    const secret = await harness.secretOf('all-events');
    const sent: { delivery: string; name: string; payload: Record<string, unknown> }[] = [];
    for (const definition of definitions) {
      for (const payload of definition.examples) {
        const delivery = crypto.randomUUID();
        const response = await harness.deliver(feed.id, secret, { event: definition.name, payload, delivery });
        if (definition.name === 'ping') {
          expect([response.status, response.json().fired]).toEqual([200, false]);
          continue;
        }
        expect({ name: definition.name, status: response.status }).toEqual({ name: definition.name, status: 202 });
        sent.push({ delivery, name: definition.name, payload });
      }
    }
    expect(sent.length).toBeGreaterThan(300);

    const byId = new Map<string, CloudEvent>(harness.bus.fired.map((event) => [event.id, event]));
    expect(harness.bus.fired).toHaveLength(sent.length);
    for (const { delivery, name, payload } of sent) {
      const event = byId.get(delivery);
      expect(event).toMatchObject({ id: delivery, type: expectedType(name, payload), subject: expectedSubject(payload, 'octo/hello'), kindlingtrigger: 'all-events' });
      expect(event?.data).toEqual(payload);
    }

    // The same deliveries again (GitHub's "Redeliver"): absorbed, none stored twice.
    for (const { delivery, name, payload } of sent.slice(0, 50)) {
      const again = await harness.deliver(feed.id, secret, { event: name, payload, delivery });
      expect(again.status).toBe(200);
      expect(again.json()).toMatchObject({ fired: false, duplicate: true, eventId: delivery });
    }
    expect(harness.bus.fired).toHaveLength(sent.length);
    expect((await harness.backend.streamInfo('KINDLING_EVENTS')).messages).toBe(sent.length);
  });

  describe('bad deliveries: the right 4xx, nothing fired, the secret in no log line', () => {
    const push = { ref: 'refs/heads/main', after: 'abc123', repository: { full_name: 'octo/hello' } };
    let feedId: string;
    let secret: string;

    beforeAll(async () => {
      feedId = (await harness.createFeed('pushes', { repository: 'octo/hello', events: 'push' })).id;
      secret = await harness.secretOf('pushes');
    });

    async function refused(post: () => Promise<{ status: number; body: string }>): Promise<{ status: number; error: string }> {
      const before = harness.bus.fired.length;
      const response = await post();
      expect(harness.bus.fired.length).toBe(before);
      return { status: response.status, error: (JSON.parse(response.body) as { error: string }).error };
    }

    it('a tampered body is 401', async () => {
      const signed = JSON.stringify(push);
      const tampered = signed.replace('refs/heads/main', 'refs/heads/evil');
      const answer = await refused(() => harness.post(`/hooks/github/${feedId}`, tampered, { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': signBody(secret, signed) }));
      expect(answer).toEqual({ status: 401, error: expect.stringContaining('does not match') });
    });

    it('a signature made with another secret is 401', async () => {
      const answer = await refused(() => harness.deliver(feedId, secret, { event: 'push', payload: push, secret: `${secret}x` }));
      expect(answer).toEqual({ status: 401, error: expect.stringContaining('does not match') });
    });

    it('a delivery without X-Hub-Signature-256 is 401, even with the old SHA-1 X-Hub-Signature', async () => {
      const answer = await refused(() => harness.deliver(feedId, secret, { event: 'push', payload: push, secret: null, headers: { 'x-hub-signature': 'sha1=0000' } }));
      expect(answer).toEqual({ status: 401, error: expect.stringContaining('no X-Hub-Signature-256') });
    });

    it('an unknown feed id is 404', async () => {
      const answer = await refused(() => harness.deliver('no-such-feed', secret, { event: 'push', payload: push }));
      expect(answer).toEqual({ status: 404, error: expect.stringContaining("no github feed with id 'no-such-feed'") });
    });

    it('a signed body that is not JSON, or not a JSON object, is 400', async () => {
      expect(await refused(() => harness.deliver(feedId, secret, { event: 'push', payload: null, rawBody: '{"ref": "refs/heads/main"' }))).toEqual({ status: 400, error: expect.stringContaining('not JSON') });
      expect(await refused(() => harness.deliver(feedId, secret, { event: 'push', payload: null, rawBody: '[1, 2]' }))).toEqual({ status: 400, error: expect.stringContaining('not a JSON object') });
    });

    it('a signed delivery without X-GitHub-Event or X-GitHub-Delivery is 400', async () => {
      const body = JSON.stringify(push);
      const headers = { 'content-type': 'application/json', 'x-hub-signature-256': signBody(secret, body) };
      expect(await refused(() => harness.post(`/hooks/github/${feedId}`, body, { ...headers, 'x-github-delivery': 'd-1' }))).toEqual({ status: 400, error: expect.stringContaining('X-GitHub-Event') });
      expect(await refused(() => harness.post(`/hooks/github/${feedId}`, body, { ...headers, 'x-github-event': 'push' }))).toEqual({ status: 400, error: expect.stringContaining('X-GitHub-Delivery') });
    });

    it('a body over GitHub\'s 25 MB limit is 413', async () => {
      const body = Buffer.alloc(25 * 1024 * 1024 + 1, 0x20);
      const answer = await refused(() => harness.deliver(feedId, secret, { event: 'push', payload: null, rawBody: body }));
      expect(answer.status).toBe(413);
    });

    it('logs no secret: neither the webhook secret nor a signature made with it', () => {
      expect(harness.logs.lines.length).toBeGreaterThan(0);
      expect(harness.logs.containing(secret)).toEqual([]);
      expect(harness.logs.containing(signBody(secret, JSON.stringify(push)).slice(7))).toEqual([]);
    });
  });

  describe('what fires', () => {
    it('only the events and actions the feed names: pull_request.opened fires, pull_request.closed and push do not', async () => {
      const feed = await harness.createFeed('prs', { repository: 'octo/hello', events: ['pull_request.opened', 'issues'] });
      const secret = await harness.secretOf('prs');
      const repository = { full_name: 'octo/hello' };
      const opened = await harness.deliver(feed.id, secret, { event: 'pull_request', payload: { action: 'opened', number: 7, repository } });
      expect([opened.status, opened.json()]).toEqual([202, expect.objectContaining({ fired: true, type: 'com.github.pull_request.opened' })]);
      const closed = await harness.deliver(feed.id, secret, { event: 'pull_request', payload: { action: 'closed', number: 7, repository } });
      expect([closed.status, closed.json()]).toEqual([200, { fired: false, reason: "'pull_request.closed' is not among this feed's events (pull_request.opened, issues)" }]);
      const push = await harness.deliver(feed.id, secret, { event: 'push', payload: { ref: 'refs/heads/main', repository } });
      expect([push.status, push.json().fired]).toEqual([200, false]);
      const issue = await harness.deliver(feed.id, secret, { event: 'issues', payload: { action: 'labeled', repository } });
      expect(issue.status).toBe(202);
      expect(harness.bus.fired.filter((event) => event.kindlingtrigger === 'prs').map((event) => event.type)).toEqual(['com.github.pull_request.opened', 'com.github.issues.labeled']);
    });

    it('a hook set up in GitHub with the form content type works as well (payload=<json>)', async () => {
      const feed = await harness.createFeed('form-posts', { repository: 'octo/hello', events: 'push' });
      const secret = await harness.secretOf('form-posts');
      const payload = { ref: 'refs/heads/main', repository: { full_name: 'octo/hello' } };
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const response = await harness.deliver(feed.id, secret, { event: 'push', payload, rawBody: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(response.status).toBe(202);
      expect(harness.bus.fired.find((event) => event.id === response.json().eventId)?.data).toEqual(payload);
    });

    it('a paused feed answers 200 without firing and says so; resumed, it fires again', async () => {
      const feed = await harness.createFeed('paused', { repository: 'octo/hello', events: 'push' });
      const secret = await harness.secretOf('paused');
      const push = { event: 'push', payload: { ref: 'refs/heads/main', repository: { full_name: 'octo/hello' } } };
      expect((await harness.request('POST', '/api/v1/namespaces/guest/feeds/paused', { action: 'pause' })).status).toBe(200);
      const whilePaused = await eventually(async () => {
        const response = await harness.deliver(feed.id, secret, push);
        return response.status === 200 ? response : undefined;
      }, 'the pause to reach the host');
      expect(whilePaused.json()).toEqual({ fired: false, reason: 'the feed is paused' });
      expect(harness.bus.fired.filter((event) => event.kindlingtrigger === 'paused')).toEqual([]);
      expect((await harness.request('POST', '/api/v1/namespaces/guest/feeds/paused', { action: 'unpause' })).status).toBe(200);
      await eventually(async () => (await harness.deliver(feed.id, secret, push)).status === 202, 'the resumed feed to fire');
    });

    it('answers 503 when the bus cannot store the event, and fires the same delivery once redelivered', async () => {
      const feed = await harness.createFeed('bus-down', { repository: 'octo/hello', events: 'push' });
      const secret = await harness.secretOf('bus-down');
      const delivery = { event: 'push', payload: { ref: 'refs/heads/main', repository: { full_name: 'octo/hello' } }, delivery: crypto.randomUUID() };
      harness.bus.down = true;
      try {
        const response = await harness.deliver(feed.id, secret, delivery);
        expect(response.status).toBe(503);
        expect(response.json().error).toMatch(/could not be stored now\. GitHub does not retry by itself: redeliver it/);
      } finally {
        harness.bus.down = false;
      }
      expect(harness.bus.fired.filter((event) => event.kindlingtrigger === 'bus-down')).toEqual([]);
      const redelivered = await harness.deliver(feed.id, secret, delivery);
      expect([redelivered.status, redelivered.json().eventId]).toEqual([202, delivery.delivery]);
    });

    it('accepts a delivery too large for one event (a push of many commits) and fires it without its largest fields', async () => {
      const feed = await harness.createFeed('big-push', { repository: 'octo/hello', events: 'push' });
      const secret = await harness.secretOf('big-push');
      const commits = Array.from({ length: 3000 }, (_, i) => ({ id: `c${i}`, message: 'x'.repeat(1000) }));
      const payload = { ref: 'refs/heads/main', after: 'c2999', repository: { full_name: 'octo/hello' }, sender: { login: 'octocat' }, commits, head_commit: commits[2999] };
      const response = await harness.deliver(feed.id, secret, { event: 'push', payload });
      expect(response.status).toBe(202);
      const event = harness.bus.fired.find((fired) => fired.id === response.json().eventId);
      expect(event?.data).toEqual({
        ref: 'refs/heads/main',
        after: 'c2999',
        repository: { full_name: 'octo/hello' },
        sender: { login: 'octocat' },
        head_commit: commits[2999],
        kindlingTruncated: expect.objectContaining({ omitted: ['commits'], deliveryBytes: Buffer.byteLength(JSON.stringify(payload)) }),
      });
    });

    it('READ without a token shows where GitHub must post and the secret to paste there', async () => {
      const feed = await harness.createFeed('by-hand', { repository: 'octo/hello', events: 'push,pull_request.opened' });
      const secret = await harness.secretOf('by-hand');
      expect((await harness.readFeed('by-hand')).details).toEqual({
        target: 'repository octo/hello',
        payloadUrl: `https://kindling.example/hooks/github/${feed.id}`,
        contentType: 'application/json',
        secret,
        hookEvents: ['pull_request', 'push'],
        events: ['push', 'pull_request.opened'],
        registration: expect.stringContaining('https://github.com/octo/hello/settings/hooks/new'),
      });
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
    });
  });
});
