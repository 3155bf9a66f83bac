import { messageOf } from './errors.js';
import { scrubSecrets } from './logger.js';

/**
 * The secret parts of a connection string: the whole string, and its password and user info as
 * they appear in it and decoded, since drivers quote either in their messages.
 */
export function connectionSecrets(connection: string): string[] {
  const secrets = [connection];
  try {
    const url = new URL(connection);
    for (const part of [url.password, url.username && url.password ? `${url.username}:${url.password}` : '']) {
      if (!part) continue;
      secrets.push(part);
      const decoded = safeDecode(part);
      if (decoded !== part) secrets.push(decoded);
    }
    const fromQuery = url.searchParams.get('password');
    if (fromQuery) secrets.push(fromQuery, encodeURIComponent(fromQuery));
  } catch {
    // Not a URL: only the whole string can be recognised.
  }
  // Longest first, so that a password inside the whole string does not leave the rest behind.
  return secrets.sort((a, b) => b.length - a.length);
}

/** An error whose message is safe to log and store: every secret of `connection` removed. */
export function scrubbedError(error: unknown, connection: string): Error {
  const message = scrubSecrets(messageOf(error), connectionSecrets(connection));
  const scrubbed = new Error(message);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') Object.assign(scrubbed, { code });
  return scrubbed;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
