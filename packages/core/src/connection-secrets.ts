import { messageOf } from './errors.js';
import { scrubSecrets } from './logger.js';

/**
 * The secret parts of a connection string (`postgres://app:pw@db/x`, `mongodb://app:pw@a,b/?…`):
 * the whole string; the user info and the password, as they appear in it and decoded, since
 * drivers quote either in their messages; and a `password` query parameter. Longest first, so
 * that a password inside the whole string does not leave the rest of it behind. A user name
 * without a password is not a secret, and is left in messages that name it.
 */
export function connectionSecrets(connection: string): string[] {
  const secrets = new Set([connection]);
  const add = (part: string) => {
    if (!part) return;
    secrets.add(part);
    secrets.add(safeDecode(part));
  };
  // Cut by hand: `new URL` cannot parse every connection string (MongoDB's lists several hosts).
  const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^@/]+)@/i.exec(connection)?.[1];
  if (userInfo?.includes(':')) {
    add(userInfo);
    add(userInfo.slice(userInfo.indexOf(':') + 1));
  }
  const query = connection.indexOf('?');
  const fromQuery = query === -1 ? null : new URLSearchParams(connection.slice(query + 1)).get('password');
  if (fromQuery) {
    secrets.add(fromQuery);
    secrets.add(encodeURIComponent(fromQuery));
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

/**
 * An error whose message is safe to log and store: every secret of `connection` replaced. Keeps
 * the original's string `code` (a driver's error code, such as PostgreSQL's `28P01`).
 */
export function scrubbedError(error: unknown, connection: string): Error {
  const scrubbed = new Error(scrubSecrets(messageOf(error), connectionSecrets(connection)));
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
