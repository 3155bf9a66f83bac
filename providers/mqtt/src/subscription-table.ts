import { createHash } from 'node:crypto';
import type { ConnectionTap, Qos, SubscriptionRequest } from './connection-tap.js';
import { topicMatches } from './topic-filter.js';
import { TopicTree } from './topic-tree.js';

/** One subscription of a connection, and the feeds that asked for it. */
export interface Subscription {
  readonly filter: string;
  readonly subscribeTopic: string;
  readonly subscriptionId: number;
  readonly taps: Map<string, { tap: ConnectionTap; qos: Qos }>;
  /** Set while the broker holds this subscription in the current session. */
  grantedQos?: Qos;
  subscribing?: Promise<void>;
  /** No feed uses it now; it is kept for a grace period in case one comes back. */
  lingerTimer?: NodeJS.Timeout;
}

export interface Route {
  taps: ConnectionTap[];
  /** The message matched a subscription no feed uses now, but one may come back for. */
  lingering: boolean;
}

const MAX_SUBSCRIPTION_ID = 268_435_455;

/** The subscriptions of one connection, and which feeds each message goes to. */
export class SubscriptionTable {
  private readonly byTopic = new Map<string, Subscription>();
  private readonly byFilter = new TopicTree<Subscription>();
  private readonly byId = new Map<number, Subscription>();
  private readonly taps = new Map<string, ConnectionTap>();
  /** Each feed's subscriptions, in the order of its filters. */
  private readonly ofTap = new Map<string, Subscription[]>();

  /** Adds a feed; returns its subscriptions (new ones, and existing ones it now shares). */
  add(tap: ConnectionTap): Subscription[] {
    this.taps.set(tap.feedId, tap);
    const subscriptions = tap.subscriptions.map((request) => this.join(request, tap));
    this.ofTap.set(tap.feedId, subscriptions);
    return subscriptions;
  }

  /** Removes a feed; returns the subscriptions no feed uses any more. */
  remove(feedId: string): Subscription[] {
    if (!this.taps.delete(feedId)) return [];
    this.ofTap.delete(feedId);
    const orphans: Subscription[] = [];
    for (const subscription of this.byTopic.values()) {
      if (subscription.taps.delete(feedId) && subscription.taps.size === 0) orphans.push(subscription);
    }
    return orphans;
  }

  /** Forgets a subscription (after unsubscribing, or when none came back for it). */
  drop(subscription: Subscription): void {
    this.byTopic.delete(subscription.subscribeTopic);
    this.byFilter.remove(subscription.filter, subscription);
    this.byId.delete(subscription.subscriptionId);
  }

  subscriptions(): IterableIterator<Subscription> {
    return this.byTopic.values();
  }

  feeds(): IterableIterator<ConnectionTap> {
    return this.taps.values();
  }

  wantedQos(subscription: Subscription): Qos {
    let qos: Qos = 0;
    for (const { qos: q } of subscription.taps.values()) if (q > qos) qos = q;
    return qos;
  }

  /**
   * The feeds a message goes to. An MQTT 5 broker sends one copy per matching subscription,
   * naming the subscription: a copy goes to the feeds of that subscription, and to a feed with
   * several matching filters only through the first of them, so that it fires once. Without
   * identifiers (MQTT 3.1.1: one copy per client) every feed whose filter matches gets it.
   */
  route(topic: string, subscriptionIds: number[] | undefined): Route {
    const taps = new Map<string, ConnectionTap>();
    let lingering = false;
    if (subscriptionIds) {
      for (const id of subscriptionIds) {
        const subscription = this.byId.get(id);
        if (!subscription || !topicMatches(subscription.filter, topic)) continue;
        if (subscription.taps.size === 0) lingering = true;
        for (const [feedId, { tap }] of subscription.taps) {
          const first = this.ofTap.get(feedId)?.find((candidate) => topicMatches(candidate.filter, topic));
          if (first === subscription) taps.set(feedId, tap);
        }
      }
    } else {
      for (const subscription of this.byFilter.match(topic)) {
        if (subscription.taps.size === 0) lingering = true;
        for (const [feedId, { tap }] of subscription.taps) taps.set(feedId, tap);
      }
    }
    return { taps: [...taps.values()], lingering };
  }

  private join(request: SubscriptionRequest, tap: ConnectionTap): Subscription {
    let subscription = this.byTopic.get(request.subscribeTopic);
    if (!subscription) {
      subscription = { filter: request.filter, subscribeTopic: request.subscribeTopic, subscriptionId: this.idFor(request.subscribeTopic), taps: new Map() };
      this.byTopic.set(request.subscribeTopic, subscription);
      this.byFilter.add(subscription.filter, subscription);
      this.byId.set(subscription.subscriptionId, subscription);
    }
    clearTimeout(subscription.lingerTimer);
    subscription.lingerTimer = undefined;
    const previous = subscription.taps.get(tap.feedId);
    subscription.taps.set(tap.feedId, { tap, qos: previous ? (Math.max(previous.qos, request.qos) as Qos) : request.qos });
    return subscription;
  }

  /**
   * MQTT 5 subscription identifiers stay in the broker's session across restarts, so they are
   * derived from the subscription itself: a restarted process reads them the same way.
   */
  private idFor(subscribeTopic: string): number {
    let id = (createHash('sha256').update(subscribeTopic).digest().readUInt32BE(0) % MAX_SUBSCRIPTION_ID) + 1;
    while (this.byId.has(id)) id = (id % MAX_SUBSCRIPTION_ID) + 1;
    return id;
  }
}
