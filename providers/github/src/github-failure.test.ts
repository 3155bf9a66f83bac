import { describe, expect, it } from '@jest/globals';
import { RequestError } from '@octokit/request-error';
import { githubFailure } from './github-failure.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const TOKEN = 'ghp_secret0123456789';

function requestError(status: number, message: string, headers: Record<string, string> = {}): RequestError {
  return new RequestError(message, status, {
    request: { method: 'GET', url: 'https://api.github.com/repos/octo/hello/hooks', headers: { authorization: `token ${TOKEN}` } },
    response: { status, url: 'https://api.github.com/repos/octo/hello/hooks', headers, data: { message } },
  });
}

function classify(error: unknown) {
  const { error: feedError, retryAt } = githubFailure(error, 'registering the hook', 'repository octo/hello', [TOKEN], NOW);
  return { retryable: feedError.retryable, message: feedError.message, retryAt };
}

describe('githubFailure', () => {
  it('a rate limit is retried after its reset: x-ratelimit-reset on a 403, retry-after on a 403 or 429', () => {
    const reset = NOW / 1000 + 600;
    expect(classify(requestError(403, 'API rate limit exceeded', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }))).toEqual({
      retryable: true,
      retryAt: reset * 1000,
      message: expect.stringContaining('retrying after 2026-01-01T12:10:00.000Z'),
    });
    expect(classify(requestError(403, 'You have exceeded a secondary rate limit', { 'retry-after': '60' })).retryAt).toBe(NOW + 60_000);
    expect(classify(requestError(429, 'Too many requests', { 'retry-after': '5' }))).toMatchObject({ retryable: true, retryAt: NOW + 5000 });
  });

  it('a 403 that is not a rate limit is missing rights, and disables', () => {
    expect(classify(requestError(403, 'Resource not accessible by personal access token', { 'x-ratelimit-remaining': '4999' }))).toEqual({
      retryable: false,
      retryAt: undefined,
      message: expect.stringMatching(/forbids registering the hook on repository octo\/hello \(403\): Resource not accessible.*admin:repo_hook/),
    });
  });

  it('4xx disable, 5xx and network failures are retried', () => {
    expect(classify(requestError(401, 'Bad credentials')).retryable).toBe(false);
    expect(classify(requestError(422, 'Validation Failed: url is not supported because it isn\'t reachable over the public Internet (localhost)'))).toMatchObject({ retryable: false, message: expect.stringContaining("isn't reachable over the public Internet") });
    expect(classify(requestError(503, 'Service Unavailable')).retryable).toBe(true);
    expect(classify(new TypeError('fetch failed')).retryable).toBe(true);
  });

  it('never repeats the token, whatever GitHub echoed', () => {
    expect(classify(requestError(401, `Bad credentials for ${TOKEN}`)).message).not.toContain(TOKEN);
  });
});
