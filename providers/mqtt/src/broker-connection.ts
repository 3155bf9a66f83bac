import { backoffDelay, FeedError, messageOf, type BackoffOptions, type Logger } from '@kindling/sdk';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { ConnectionSettings } from './connection-settings.js';
import { deliverToAll, type ConnectionTap, type InboundMessage, type Qos } from './connection-tap.js';
import { connectRefusal, disconnectReason, isCredentialRefusal, subscribeFailure } from './mqtt-reasons.js';
import { Abandoned, ParkedMessages } from './parked-messages.js';
import { SubscriptionTable, type Subscription } from './subscription-table.js';

export interface BrokerConnectionOptions {
  settings: ConnectionSettings;
  log: Logger;
  /**
   * How long a message that no running feed claims is held unacknowledged, waiting for a feed to
   * start (after a restart) or restart (after an update): then it is acknowledged and dropped.
   */
  claimGraceMs?: number;
  /** Messages being fired at once; past it, the connection stops reading from the broker. */
  maxInFlight?: number;
  connectTimeoutMs?: number;
  reconnectBackoff?: BackoffOptions;
}

type State = 'connecting' | 'connected' | 'down' | 'refused' | 'closed';

/**
 * Passed to MQTT.js's handleMessage callback for a QoS 1 message whose PUBACK this class sends
 * itself once the message is durable. MQTT.js skips its own PUBACK when the callback gets an
 * error and goes on with the next packet, which is what lets many messages be in flight at once:
 * its documented path acknowledges in the callback and so handles one message at a time.
 */
class AckHeld extends Error {
  constructor() {
    super('acknowledged later, once durable');
  }
}
const ACK_HELD = new AckHeld();

/** Handed to MQTT.js for a QoS 2 message whose event could not be made durable: no PUBREC is sent. */
class NotAccepted extends Error {}

/**
 * One MQTT connection shared by every feed of a provider host that uses the same broker and
 * client id. It routes each message to the feeds whose filters match it and acknowledges the
 * message to the broker only once every one of them has fired it durably:
 *
 * - QoS 1: the PUBACK is held until the events are durable, with up to `maxInFlight` messages
 *   in flight;
 * - QoS 2: the PUBREC is held the same way (one message at a time), so that the broker keeps
 *   the message until it is ours;
 * - a message a feed could not fire is never acknowledged: the connection is recycled and the
 *   broker delivers it again, on a persistent session.
 *
 * It reconnects by itself with backoff and jitter, resubscribes when the broker did not keep the
 * session, and tells the feeds when it is down, back up, or refused for good.
 */
export class BrokerConnection {
  readonly settings: ConnectionSettings;
  private readonly log: Logger;
  private readonly claimGraceMs: number;
  private readonly maxInFlight: number;
  private readonly connectTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private client?: MqttClient;
  private state: State = 'connecting';
  private refusal?: FeedError;
  private downReason?: string;
  private reportedDown = false;
  private lastError?: string;
  private generation = 0;
  private attempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private firstConnectedAt?: number;
  private firstOutcome?: () => void;
  private readonly table = new SubscriptionTable();
  private readonly parked: ParkedMessages;
  private inFlight = 0;
  /** Delivery failures since the last successful delivery: they lengthen the reconnect backoff. */
  private failureStreak = 0;
  private readonly inFlightWork = new Set<Promise<void>>();
  private readonly slotWaiters: Array<() => void> = [];
  private unclaimed = { count: 0, loggedAt: 0 };

  constructor(options: BrokerConnectionOptions) {
    this.settings = options.settings;
    this.log = options.log.child({ broker: options.settings.url, clientId: options.settings.clientId });
    this.claimGraceMs = options.claimGraceMs ?? 5000;
    this.maxInFlight = options.maxInFlight ?? 1000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.backoff = options.reconnectBackoff ?? { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };
    this.parked = new ParkedMessages({
      graceMs: this.claimGraceMs,
      route: (topic, subscriptionIds) => this.table.route(topic, subscriptionIds).taps,
      unclaimed: (topic) => this.noteUnclaimed(topic),
    });
  }

  /** Connects; resolves after the first attempt, whatever its outcome (the connection keeps trying). */
  async open(): Promise<void> {
    const { settings } = this;
    const v5 = settings.protocolVersion === 5;
    const options: IClientOptions = {
      clientId: settings.clientId,
      clean: settings.clean,
      protocolVersion: settings.protocolVersion,
      rejectUnauthorized: settings.rejectUnauthorized,
      reconnectPeriod: 0,
      connectTimeout: this.connectTimeoutMs,
      keepalive: 30,
      resubscribe: false,
      manualConnect: true,
      ...(v5 ? { properties: { sessionExpiryInterval: settings.clean ? 0 : 0xffff_ffff, receiveMaximum: Math.min(this.maxInFlight, 65_535) } } : {}),
    };
    if (settings.username !== undefined) options.username = settings.username;
    if (settings.password !== undefined) options.password = settings.password;
    if (settings.ca !== undefined) options.ca = settings.ca;
    if (settings.cert !== undefined) options.cert = settings.cert;
    if (settings.key !== undefined) options.key = settings.key;

    const client = mqtt.connect(settings.url, options);
    this.client = client;
    // MQTT.js only takes customHandleAcks from the options for MQTT 5, but calls it for every
    // QoS 1/2 message of either version: set here, it holds the PUBREC of QoS 2 messages.
    client.options.customHandleAcks = (_topic, _payload, packet: IPublishPacket, done) => this.beforeAck(packet, done);
    client.handleMessage = (packet, callback) => this.onMessage(packet, callback);
    client.on('connect', (connack) => this.onConnected(connack.sessionPresent));
    client.on('error', (error) => this.onError(error));
    client.on('disconnect', (packet) => {
      this.lastError = `the broker disconnected us: ${disconnectReason(packet.reasonCode ?? 0)}`;
    });
    client.on('close', () => this.onClosed());

    const settled = new Promise<void>((resolve) => (this.firstOutcome = resolve));
    client.connect();
    await settled;
  }

  /** Set once the broker refused us for good: a feed joining now is refused the same way. */
  get refused(): FeedError | undefined {
    return this.refusal;
  }

  /**
   * Routes the tap's filters to it and subscribes to those the broker does not hold yet. Rejects
   * with a non-retryable FeedError when the broker refuses a subscription (the tap is detached).
   */
  async attach(tap: ConnectionTap): Promise<void> {
    if (this.refusal) throw this.refusal;
    if (this.state === 'closed') throw new FeedError('the MQTT connection is closing');
    const subscriptions = this.table.add(tap);
    this.parked.claim();
    if (this.state !== 'connected') {
      if (this.reportedDown && this.downReason) tap.down(this.downReason);
      return;
    }
    try {
      await Promise.all(subscriptions.map((subscription) => this.ensureSubscribed(subscription)));
    } catch (error) {
      this.detach(tap.feedId);
      throw error;
    }
  }

  /** Stops routing to the feed; filters no other feed uses linger for a grace period, then are unsubscribed. */
  detach(feedId: string): void {
    for (const subscription of this.table.remove(feedId)) {
      if (this.state === 'closed') continue;
      clearTimeout(subscription.lingerTimer);
      subscription.lingerTimer = setTimeout(() => this.retire(subscription), this.claimGraceMs);
      subscription.lingerTimer.unref();
    }
  }

  /**
   * Closes the connection without unsubscribing, so that a persistent session keeps queueing at
   * the broker until a provider host connects again. Messages being fired are given a moment to
   * become durable and be acknowledged; the rest the broker delivers again.
   */
  async close(drainMs = 2000): Promise<void> {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    for (const subscription of this.table.subscriptions()) clearTimeout(subscription.lingerTimer);
    this.parked.abandon();
    await Promise.race([Promise.allSettled([...this.inFlightWork]), delay(drainMs)]);
    this.generation++;
    const client = this.client;
    if (!client) return;
    if (wasConnected && client.connected) {
      await Promise.race([client.endAsync(false), delay(2000)]);
    }
    await client.endAsync(true);
    this.log.debug('mqtt connection closed');
  }

  private async ensureSubscribed(subscription: Subscription): Promise<void> {
    while (subscription.subscribing) await subscription.subscribing.catch(() => undefined);
    if (this.state !== 'connected' || subscription.taps.size === 0) return;
    const qos = this.table.wantedQos(subscription);
    if (subscription.grantedQos !== undefined && subscription.grantedQos >= qos) return;
    subscription.subscribing = this.subscribe(subscription, qos).finally(() => (subscription.subscribing = undefined));
    await subscription.subscribing;
  }

  /**
   * Subscribes; rejects only with a non-retryable FeedError, when the broker refuses. A
   * subscription cut short by a lost connection is made again once it is back.
   */
  private async subscribe(subscription: Subscription, qos: Qos): Promise<void> {
    const client = this.client as MqttClient;
    const v5 = this.settings.protocolVersion === 5;
    const generation = this.generation;
    let grants: Array<{ qos: number }>;
    try {
      grants = await client.subscribeAsync(subscription.subscribeTopic, {
        qos,
        // MQTT 5: retained messages only for a new subscription, not again on every resubscribe.
        ...(v5 ? { rh: 1, properties: { subscriptionIdentifier: subscription.subscriptionId } } : {}),
      });
    } catch (error) {
      if (generation !== this.generation || this.state !== 'connected') return;
      this.log.warn({ topic: subscription.subscribeTopic, err: messageOf(error) }, 'subscribing failed; reconnecting');
      this.client?.stream.destroy();
      return;
    }
    if (generation !== this.generation) return;
    const granted = grants[0]?.qos ?? 0x80;
    const failure = subscribeFailure(granted);
    if (failure) {
      throw new FeedError(`the broker refused the subscription to '${subscription.subscribeTopic}': ${failure}`, { retryable: false });
    }
    subscription.grantedQos = granted as Qos;
    if (granted < qos) {
      this.log.warn({ topic: subscription.subscribeTopic, requested: qos, granted }, 'the broker granted a lower QoS than requested');
    }
  }

  private retire(subscription: Subscription): void {
    if (subscription.taps.size > 0 || this.state === 'closed') return;
    this.table.drop(subscription);
    if (this.state === 'connected' && subscription.grantedQos !== undefined) {
      this.client?.unsubscribeAsync(subscription.subscribeTopic).catch((error) => this.log.warn({ topic: subscription.subscribeTopic, err: messageOf(error) }, 'unsubscribing failed'));
    }
  }

  private onConnected(sessionPresent: boolean): void {
    if (this.state === 'closed') return;
    const resumed = sessionPresent && !this.settings.clean;
    this.state = 'connected';
    this.attempt = 0;
    this.lastError = undefined;
    this.firstConnectedAt ??= Date.now();
    this.log.info({ sessionPresent: resumed }, 'connected to the MQTT broker');
    // Without the session, the broker forgot our subscriptions: make them again.
    if (!resumed) for (const subscription of this.table.subscriptions()) subscription.grantedQos = undefined;
    for (const subscription of this.table.subscriptions()) {
      this.ensureSubscribed(subscription).catch((error: FeedError) => {
        for (const { tap } of subscription.taps.values()) tap.refused(error);
      });
    }
    if (this.reportedDown) {
      this.reportedDown = false;
      this.downReason = undefined;
      for (const tap of this.table.feeds()) tap.up();
    }
    this.firstOutcome?.();
  }

  private onError(error: Error): void {
    if (error instanceof NotAccepted) return;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number' && error.message.startsWith('Connection refused')) {
      this.onRefused(code);
      return;
    }
    this.lastError = messageOf(error);
    this.log.debug({ err: this.lastError }, 'mqtt client error');
  }

  private onRefused(code: number): void {
    const version = this.settings.protocolVersion;
    const refusal = connectRefusal(code, version);
    const what = isCredentialRefusal(code, version) ? 'refused our credentials' : 'refused the connection';
    const message = `the MQTT broker at ${this.settings.url} ${what} (CONNACK ${code}: ${refusal.description})`;
    if (refusal.retryable) {
      this.lastError = message;
      return;
    }
    this.refusal = new FeedError(`${message}; fix the feed's parameters and update it`, { retryable: false });
    this.state = 'refused';
    this.log.error({ code }, message);
    for (const tap of this.table.feeds()) tap.refused(this.refusal);
    this.firstOutcome?.();
  }

  private onClosed(): void {
    this.generation++;
    this.parked.abandon();
    // Work of the old connection can no longer be acknowledged: it must not hold up the new one.
    this.inFlight = 0;
    for (const waiter of this.slotWaiters.splice(0)) waiter();
    if (this.state === 'closed' || this.state === 'refused') return;
    this.state = 'down';
    this.attempt++;
    const reason = `cannot reach the MQTT broker at ${this.settings.url}: ${this.lastError ?? 'the connection closed'}; reconnecting`;
    const wait = backoffDelay(this.attempt + this.failureStreak, this.backoff);
    this.log.warn({ reason, attempt: this.attempt, retryInMs: wait }, 'mqtt connection down');
    if (!this.reportedDown || reason !== this.downReason) {
      this.reportedDown = true;
      this.downReason = reason;
      for (const tap of this.table.feeds()) tap.down(reason);
    }
    this.lastError = undefined;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.state === 'down') {
        this.state = 'connecting';
        this.client?.reconnect();
      }
    }, wait);
    this.reconnectTimer.unref();
    this.firstOutcome?.();
  }

  /** The broker hands us a QoS 1/2 message; for QoS 2 this is where its PUBREC waits for durability. */
  private beforeAck(packet: IPublishPacket, done: (error: Error | number, code?: number) => void): void {
    if (packet.qos !== 2) {
      done(0);
      return;
    }
    const generation = this.generation;
    this.track(this.process(packet), generation).then(
      () => (generation === this.generation ? done(0) : done(new NotAccepted('connection replaced'))),
      (error) => {
        done(new NotAccepted(messageOf(error)));
        this.deliveryFailed(error, generation);
      },
    );
  }

  /** Every message reaches here; QoS 0/1 are fired now (QoS 2 already were, before their PUBREC). */
  private onMessage(packet: IPublishPacket, callback: (error?: Error) => void): void {
    if (packet.qos === 2) {
      callback();
      return;
    }
    const generation = this.generation;
    this.track(this.process(packet), generation).then(
      () => {
        if (packet.qos === 1) this.sendPuback(packet.messageId as number, generation);
      },
      (error) => this.deliveryFailed(error, generation),
    );
    const next = () => callback(packet.qos === 1 ? ACK_HELD : undefined);
    if (this.inFlight < this.maxInFlight) next();
    else this.slotWaiters.push(next);
  }

  private track(work: Promise<void>, generation: number): Promise<void> {
    this.inFlight++;
    this.inFlightWork.add(work);
    const settled = () => {
      this.inFlightWork.delete(work);
      if (generation !== this.generation) return;
      this.inFlight--;
      this.slotWaiters.shift()?.();
    };
    work.then(() => {
      this.failureStreak = 0;
      settled();
    }, settled);
    return work;
  }

  private sendPuback(messageId: number, generation: number): void {
    if (generation !== this.generation || !this.client?.connected) return;
    // The PUBACK MQTT.js would have sent, had we not held it (see AckHeld).
    (this.client as unknown as { _sendPacket(packet: object): void })._sendPacket({ cmd: 'puback', messageId, reasonCode: 0 });
  }

  private deliveryFailed(error: unknown, generation: number): void {
    if (error instanceof Abandoned || generation !== this.generation || this.state !== 'connected') return;
    this.failureStreak++;
    // Unacknowledged, the message is delivered again only on a new connection: recycle this one.
    this.lastError = `firing an event failed (${messageOf(error)}); the broker will deliver the unacknowledged messages again`;
    this.log.warn({ err: messageOf(error) }, 'firing failed; reconnecting to have the broker deliver again');
    this.client?.stream.destroy();
  }

  private process(packet: IPublishPacket): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new Abandoned());
    const message: InboundMessage = {
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      qos: packet.qos as Qos,
      retained: packet.retain === true,
    };
    const subscriptionIds = this.subscriptionIdsOf(packet);
    const route = this.table.route(message.topic, subscriptionIds);
    if (route.taps.length > 0) return deliverToAll(route.taps, message);
    if (route.lingering || this.inStartupGrace()) return this.parked.park(message, subscriptionIds);
    this.noteUnclaimed(message.topic);
    return Promise.resolve();
  }

  private subscriptionIdsOf(packet: IPublishPacket): number[] | undefined {
    const ids = packet.properties?.subscriptionIdentifier;
    if (ids === undefined) return undefined;
    return Array.isArray(ids) ? ids : [ids];
  }

  private inStartupGrace(): boolean {
    return this.firstConnectedAt !== undefined && Date.now() < this.firstConnectedAt + this.claimGraceMs;
  }

  private noteUnclaimed(topic: string): void {
    this.unclaimed.count++;
    const now = Date.now();
    if (now - this.unclaimed.loggedAt < 10_000) return;
    this.log.warn(
      { messages: this.unclaimed.count, topic },
      'messages matched no running feed (one deleted or paused); acknowledged and dropped',
    );
    this.unclaimed = { count: 0, loggedAt: now };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
