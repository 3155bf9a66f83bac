import { KindlingError } from '@kindling/core';
import type { AuthKey } from './namespace-store.js';

export const AUTH_REALM = 'OpenWhisk secure realm';

export function authRequired(): KindlingError {
  return new KindlingError('KND_UNAUTHENTICATED', 'The resource requires authentication, which was not supplied with the request.');
}

export function authInvalid(): KindlingError {
  return new KindlingError('KND_UNAUTHENTICATED', 'The supplied authentication is invalid.');
}

/** Reads `Authorization: Basic base64(uuid:key)`; throws a 401 error when absent or malformed. */
export function parseBasicAuth(header: string | undefined): AuthKey {
  if (!header) throw authRequired();
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match) throw authInvalid();
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) throw authInvalid();
  return { uuid: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
}
