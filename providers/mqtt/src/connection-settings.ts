import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { SubscriptionParams } from './subscription-params.js';

/** Per process: digests of settings never let anyone test a password guess against a log line. */
const keySalt = randomBytes(32);

/** Everything that makes two feeds' connections interchangeable: same broker, identity, session. */
export interface ConnectionSettings {
  url: string;
  clientId: string;
  clean: boolean;
  protocolVersion: 4 | 5;
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

/**
 * A client id is at most 23 characters of [0-9a-zA-Z] for a broker to be obliged to accept it
 * (MQTT 3.1.1 §3.1.3.1); ours are `kindling-` and 14 hex digits.
 */
function derivedClientId(...parts: string[]): string {
  return `kindling-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 14)}`;
}

/**
 * The connection settings of a feed. Without an explicit `clientId`, feeds on the same broker
 * with the same user share one client id (and so one connection and one persistent session),
 * derived from broker and user so that it is the same after a restart. A feed in a shared
 * subscription group is one member of the group on its own: its client id derives from the feed,
 * so that its session follows it to whichever provider host runs it.
 */
export function connectionSettingsOf(feedId: string, params: SubscriptionParams): ConnectionSettings {
  const shared = params.shareGroup !== undefined || (typeof params.topic === 'string' ? [params.topic] : params.topic).some((t) => t.startsWith('$share/'));
  const clientId =
    params.clientId ??
    (shared ? derivedClientId('feed', feedId) : derivedClientId('broker', params.url, params.username ?? '', String(params.protocolVersion), String(params.clean)));
  const settings: ConnectionSettings = {
    url: params.url,
    clientId,
    clean: params.clean,
    protocolVersion: params.protocolVersion,
    rejectUnauthorized: params.rejectUnauthorized,
  };
  for (const field of ['username', 'password', 'ca', 'cert', 'key'] as const) {
    if (params[field] !== undefined) settings[field] = params[field];
  }
  return settings;
}

/**
 * The key under which feeds share a connection: one per broker and client id, since a broker
 * lets only one connection hold a client id at a time.
 */
export function connectionKey(settings: ConnectionSettings): string {
  return `mqtt-${digest([settings.url, settings.clientId])}`;
}

/**
 * A digest of every setting, to tell whether a feed may join a connection that already holds
 * its client id. Salted: the settings hold secrets, and a digest may reach a log.
 */
export function settingsDigest(settings: ConnectionSettings): string {
  return digest([
    settings.url,
    settings.clientId,
    String(settings.clean),
    String(settings.protocolVersion),
    settings.username ?? '',
    settings.password ?? '',
    settings.ca ?? '',
    settings.cert ?? '',
    settings.key ?? '',
    String(settings.rejectUnauthorized),
  ]);
}

function digest(fields: string[]): string {
  return createHmac('sha256', keySalt).update(JSON.stringify(fields)).digest('hex').slice(0, 32);
}
