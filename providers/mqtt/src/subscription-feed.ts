import {
  compileQueryFilter,
  deterministicId,
  FeedError,
  isKindlingError,
  messageOf,
  parseWith,
  type FeedContext,
  type FeedHandle,
  type FeedInstance,
  type QueryFilter,
} from '@kindling/sdk';
import { BrokerConnection } from './broker-connection.js';
import type { ConnectionTap, InboundMessage, SubscriptionRequest } from './connection-tap.js';
import { connectionKey, connectionSettingsOf, settingsDigest } from './connection-settings.js';
import { decodePayload, fieldAt } from './payload-decoder.js';
import { subscriptionParams, topicsOf, type SubscriptionParams } from './subscription-params.js';
import { parseSubscription } from './topic-filter.js';

/** The data of an event: what a rule's filter sees under `data`. */
export interface MqttEventData {
  topic: string;
  /** The decoded payload: JSON value (`json`), string (`text`) or base64 (`binary`); null when it could not be decoded. */
  payload: unknown;
  /** Present (true) when the broker sent a retained message because the feed subscribed. */
  retained?: true;
  /** Why the payload could not be decoded under the feed's format. */
  error?: string;
  /** The undecodable payload, in base64 (absent when it was over `maxPayloadBytes`). */
  payloadBase64?: string;
  payloadBytes?: number;
}

/** Events bigger than this would not fit a default NATS message (1 MiB) with their envelope. */
const MAX_EVENT_DATA_BYTES = 768 * 1024;

/** Connections of this module, by key, with the digest of their settings: feeds join only an identical one. */
const settingsOfConnection = new WeakMap<BrokerConnection, string>();

/**
 * Starts a subscription feed: joins (or opens) the connection shared by the feeds with the same
 * broker and client id on this host, subscribes its filters, and fires each message it receives.
 */
export async function startSubscription(feed: FeedInstance<SubscriptionParams>, ctx: FeedContext): Promise<FeedHandle> {
  let params: SubscriptionParams;
  try {
    params = parseWith(subscriptionParams, feed.params, { code: 'KND_BAD_FEED_PARAMS' });
  } catch (error) {
    throw new FeedError(`the stored parameters are invalid: ${messageOf(error)}`, { retryable: false, cause: error });
  }
  const settings = connectionSettingsOf(feed.id, params);
  const digest = settingsDigest(settings);
  const connection = await ctx.resources.acquire(
    connectionKey(settings),
    async () => {
      const created = new BrokerConnection({ settings, log: ctx.log.child({ component: 'mqtt-connection' }) });
      settingsOfConnection.set(created, digest);
      await created.open();
      return created;
    },
    (created) => created.close(),
  );
  if (settingsOfConnection.get(connection) !== digest) {
    throw new FeedError(
      `another feed on this host already connects to ${settings.url} as client id '${settings.clientId}' with other credentials or options; a broker lets one connection hold a client id, so give this feed its own clientId or the same settings`,
    );
  }
  if (connection.refused) throw connection.refused;

  const tap = subscriptionTap(feed.id, params, ctx);
  ctx.signal.addEventListener('abort', () => connection.detach(feed.id), { once: true });
  if (ctx.signal.aborted) return { stop() {} };
  await connection.attach(tap);
  return {
    stop() {
      connection.detach(feed.id);
    },
  };
}

function subscriptionTap(feedId: string, params: SubscriptionParams, ctx: FeedContext): ConnectionTap {
  const subscriptions: SubscriptionRequest[] = topicsOf(params).map((written) => {
    const { filter, subscribeTopic } = parseSubscription(written, params.shareGroup);
    return { filter, subscribeTopic, qos: params.qos };
  });
  const filter: QueryFilter | undefined = params.filter ? compileQueryFilter(params.filter) : undefined;
  let filterErrorLogged = false;

  return {
    feedId,
    subscriptions,
    async deliver(message: InboundMessage) {
      const data = eventData(message, params);
      if (filter && data.error === undefined) {
        let matches: boolean;
        try {
          matches = filter.test(data as unknown as Record<string, unknown>);
        } catch (error) {
          if (!filterErrorLogged) ctx.log.warn({ topic: message.topic, err: messageOf(error) }, 'the feed filter failed on a message; such messages are not fired');
          filterErrorLogged = true;
          matches = false;
        }
        if (!matches) return;
      }
      const id = params.idField && data.error === undefined ? fieldAt(data.payload, params.idField) : undefined;
      const options = { subject: message.topic, ...(id === undefined ? {} : { id: deterministicId('mqtt', message.topic, id) }) };
      try {
        await ctx.fire(data, options);
      } catch (error) {
        // Redelivering a message the bus will never take would stall the connection for good.
        if (!isKindlingError(error) || error.code !== 'KND_PAYLOAD_TOO_LARGE') throw error;
        await ctx.fire({ topic: message.topic, payload: null, error: `the event was too large for the bus: ${error.message}`, payloadBytes: message.payload.length }, options);
      }
    },
    down: (reason) => ctx.degraded(reason),
    up: () => ctx.healthy(),
    refused: (error) => ctx.fail(error),
  };
}

export function eventData(message: InboundMessage, params: Pick<SubscriptionParams, 'format' | 'maxPayloadBytes'>): MqttEventData {
  const decoded = decodePayload(message.payload, params.format, params.maxPayloadBytes);
  const data: MqttEventData = decoded.ok
    ? { topic: message.topic, payload: decoded.payload }
    : {
        topic: message.topic,
        payload: null,
        error: decoded.error,
        ...(decoded.payloadBase64 === undefined ? {} : { payloadBase64: decoded.payloadBase64 }),
        payloadBytes: decoded.payloadBytes,
      };
  if (message.retained) data.retained = true;
  // Text of control characters grows sixfold as JSON: keep such an event within what the bus takes.
  if (decoded.ok && message.payload.length > 64 * 1024 && Buffer.byteLength(JSON.stringify(data)) > MAX_EVENT_DATA_BYTES) {
    return { topic: message.topic, payload: null, error: `payload of ${message.payload.length} bytes makes an event over ${MAX_EVENT_DATA_BYTES} bytes`, payloadBytes: message.payload.length };
  }
  return data;
}
