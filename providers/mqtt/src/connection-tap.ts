import type { FeedError } from '@kindling/sdk';

export type Qos = 0 | 1 | 2;

export interface InboundMessage {
  topic: string;
  payload: Buffer;
  qos: Qos;
  /** Sent from the broker's retained store when the subscription was made, not published now. */
  retained: boolean;
}

export interface SubscriptionRequest {
  /** The filter topics are matched against. */
  filter: string;
  /** What goes in SUBSCRIBE: the filter, or `$share/<group>/<filter>`. */
  subscribeTopic: string;
  qos: Qos;
}

/** A feed's end of a shared connection. */
export interface ConnectionTap {
  readonly feedId: string;
  readonly subscriptions: readonly SubscriptionRequest[];
  /** Handles one message; resolves once its event is durable (or the feed chose not to fire it). */
  deliver(message: InboundMessage): Promise<void>;
  /** The connection is down; the feed is `failing` with this reason until `up`. */
  down(reason: string): void;
  up(): void;
  /** The broker refused this feed for good (bad credentials, a subscription it denies). */
  refused(error: FeedError): void;
}

/** Delivers a message to every tap; resolves once all of them are done, rejects if one failed. */
export function deliverToAll(taps: readonly ConnectionTap[], message: InboundMessage): Promise<void> {
  if (taps.length === 1) return (taps[0] as ConnectionTap).deliver(message);
  return Promise.all(taps.map((tap) => tap.deliver(message))).then(() => undefined);
}
