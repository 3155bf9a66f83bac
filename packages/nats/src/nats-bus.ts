import {
  assertFilter,
  assertSubject,
  checkConsumeOptions,
  KindlingError,
  messageOf,
  streamOfSubject,
  type ConsumeOptions,
  type Consumption,
  type EventBus,
  type Listener,
  type Logger,
  type MessageHandler,
  type PublishAck,
  type PublishOptions,
} from '@kindling/core';
import { headers as natsHeaders, type JetStreamClient, type JetStreamManager, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';
import { ensureConsumer } from './ensure-consumer.js';
import type { JetStreamPublisher } from './jet-stream-publisher.js';
import { unavailable } from './nats-errors.js';
import type { NatsScope } from './nats-scope.js';
import { NatsSubscriber } from './nats-subscriber.js';

/** JetStream de-duplicates messages with the same id within the stream's duplicate window. */
const MSG_ID_HEADER = 'Nats-Msg-Id';

/** Bound of the checked-subjects memo (it starts over when full). */
const CHECKED_SUBJECTS_MAX = 10_000;

/**
 * The event bus on NATS JetStream. Publishes are not serialised: each is a request whose ack is
 * awaited on its own (through the connection's `JetStreamPublisher`), so concurrent callers keep
 * many in flight on the one connection.
 */
export class NatsBus implements EventBus {
  private readonly subscribers = new Set<NatsSubscriber>();
  private readonly listeners = new Set<Subscription>();
  /** Subjects found valid and inside a stream: publishers repeat a few subjects many times. */
  private readonly checkedSubjects = new Set<string>();
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly publisher: JetStreamPublisher,
    private readonly scope: NatsScope,
    private readonly log: Logger,
  ) {}

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    this.assertOpen();
    if (!this.checkedSubjects.has(subject)) {
      streamOfSubject(subject);
      if (this.checkedSubjects.size >= CHECKED_SUBJECTS_MAX) this.checkedSubjects.clear();
      this.checkedSubjects.add(subject);
    }
    let headers: MsgHdrs | undefined;
    if (options.msgId !== undefined || (options.headers && Object.keys(options.headers).length > 0)) {
      headers = natsHeaders();
      if (options.headers) for (const key in options.headers) headers.set(key, options.headers[key]!);
      if (options.msgId !== undefined) headers.set(MSG_ID_HEADER, options.msgId);
    }
    try {
      const ack = await this.publisher.publish(this.scope.subject(subject), data, headers);
      return { stream: this.scope.unscopedName(ack.stream), seq: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      throw unavailable('KND_BUS_UNAVAILABLE', `publish to ${subject}`, error);
    }
  }

  async consume(options: ConsumeOptions, handler: MessageHandler): Promise<Consumption> {
    this.assertOpen();
    const { durable, filter, ackWaitMs, maxInFlight, stream } = checkConsumeOptions(options);
    const streamName = this.scope.name(stream.name);
    const durableName = this.scope.name(durable);
    try {
      await ensureConsumer(this.jsm, { stream: streamName, durable: durableName, filter: this.scope.subject(filter), ackWaitMs, maxInFlight });
      const consumer = await this.js.consumers.get(streamName, durableName);
      const subscriber = new NatsSubscriber(consumer, durable, handler, maxInFlight, this.scope, this.log).start();
      this.subscribers.add(subscriber);
      return {
        stop: async () => {
          this.subscribers.delete(subscriber);
          await subscriber.stop();
        },
      };
    } catch (error) {
      throw unavailable('KND_BUS_UNAVAILABLE', `consuming ${filter} as '${durable}'`, error);
    }
  }

  notify(subject: string, data: Uint8Array): void {
    assertSubject(subject);
    this.nc.publish(this.scope.subject(subject), data);
  }

  listen(subject: string, handler: (data: Uint8Array, subject: string) => void): Listener {
    assertFilter(subject, 'subject');
    const subscription = this.nc.subscribe(this.scope.subject(subject), {
      callback: (error, message) => {
        if (error) return this.log.warn({ subject, err: messageOf(error) }, 'notification subscription failed');
        try {
          handler(message.data, this.scope.unscopedSubject(message.subject));
        } catch (failure) {
          this.log.error({ subject: message.subject, err: messageOf(failure) }, 'notification listener failed');
        }
      },
    });
    this.listeners.add(subscription);
    return {
      stop: () => {
        this.listeners.delete(subscription);
        subscription.unsubscribe();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.listeners) listener.unsubscribe();
    this.listeners.clear();
    await Promise.all([...this.subscribers].map((subscriber) => subscriber.stop()));
    this.subscribers.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new KindlingError('KND_BUS_UNAVAILABLE', 'the NATS bus is closed.');
  }
}
