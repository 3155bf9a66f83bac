import { FeedError, messageOf, scrubSecrets } from '@kindling/sdk';

/** What went wrong talking to GitHub, and whether trying again can help. */
export interface GitHubFailure {
  error: FeedError;
  /** For a rate limit: when GitHub lets the token call again (epoch ms). */
  retryAt?: number;
}

interface RequestErrorLike {
  status?: number;
  message?: string;
  name?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

function header(error: RequestErrorLike, name: string): string | undefined {
  const value = error.response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

/** When a rate-limited token may call again: `retry-after` (seconds) or `x-ratelimit-reset` (epoch seconds). */
function rateLimitReset(error: RequestErrorLike, now: number): number | undefined {
  const retryAfter = Number(header(error, 'retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter >= 0 && header(error, 'retry-after') !== undefined) return now + retryAfter * 1000;
  if (header(error, 'x-ratelimit-remaining') === '0') {
    const reset = Number(header(error, 'x-ratelimit-reset'));
    return Number.isFinite(reset) ? Math.max(now, reset * 1000) : now + 60_000;
  }
  return undefined;
}

/**
 * Classifies a failed GitHub call as the feed's status will show it: a refused token (401), a
 * token without the rights (403), a repository or organisation that does not exist or is not
 * visible (404) and any other refusal (422: a hook URL GitHub cannot reach, say) disable the feed with GitHub's message; a rate limit
 * (with its reset time), a 5xx and a network failure are retried. Secrets are scrubbed from the
 * message, whatever GitHub echoed.
 */
export function githubFailure(cause: unknown, doing: string, where: string, secrets: readonly string[], now: number): GitHubFailure {
  const error = (cause ?? {}) as RequestErrorLike;
  const status = typeof error.status === 'number' ? error.status : 0;
  const said = scrubSecrets(messageOf(cause), secrets);
  const fail = (message: string, retryable: boolean) => new FeedError(scrubSecrets(message, secrets), { retryable, cause, detail: { githubStatus: status } });

  const resetAt = status === 403 || status === 429 ? rateLimitReset(error, now) : undefined;
  if (resetAt !== undefined) {
    return { error: fail(`GitHub rate limit reached while ${doing} on ${where}; retrying after ${new Date(resetAt).toISOString()} (GitHub said: ${said})`, true), retryAt: resetAt };
  }
  switch (status) {
    case 401:
      return { error: fail(`GitHub refused the access token (401) while ${doing} on ${where}: ${said}. Give the feed a valid token: kindling feed update <trigger> -p accessToken …`, false) };
    case 403:
      return { error: fail(`GitHub forbids ${doing} on ${where} (403): ${said}. The token needs admin rights on the hooks (scope admin:repo_hook, or admin:org_hook for an organisation)`, false) };
    case 404:
      return { error: fail(`${where} was not found on GitHub (404) while ${doing}: it does not exist, or the token has no admin rights on it (GitHub answers 404 for both)`, false) };
  }
  if (status >= 400 && status < 500) return { error: fail(`GitHub refused ${doing} on ${where} (${status}): ${said}`, false) };
  if (status >= 500) return { error: fail(`GitHub failed while ${doing} on ${where} (${status}): ${said}; retrying`, true) };
  return { error: fail(`could not reach GitHub while ${doing} on ${where}: ${said}; retrying`, true) };
}
