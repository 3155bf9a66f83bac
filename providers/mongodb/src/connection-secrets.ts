import { messageOf, scrubSecrets } from '@kindling/sdk';

/**
 * The secret parts of a connection string: the whole string, and its password and user info as
 * they appear in it and decoded, since drivers quote either in their messages.
 */
export function connectionSecrets(uri: string): string[] {
  const secrets = [uri];
  // `new URL` cannot parse every MongoDB URI (several hosts), so the user info is cut out by hand.
  const userInfo = /^[a-z+]+:\/\/([^@/]+)@/i.exec(uri)?.[1];
  if (userInfo) {
    const password = userInfo.includes(':') ? userInfo.slice(userInfo.indexOf(':') + 1) : '';
    for (const part of [userInfo, password]) {
      if (!part) continue;
      secrets.push(part);
      const decoded = safeDecode(part);
      if (decoded !== part) secrets.push(decoded);
    }
  }
  return secrets.sort((a, b) => b.length - a.length);
}

/** The message of `error`, safe to log and store: every secret of `uri` removed. */
export function scrubbedMessage(error: unknown, uri: string): string {
  return scrubSecrets(messageOf(error), connectionSecrets(uri));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
