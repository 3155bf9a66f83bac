import {
  decodeJson,
  KindlingError,
  type CloudEvent,
  type ConsumeOptions,
  type Consumption,
  type EventBus,
  type Listener,
  type MessageHandler,
  type PublishAck,
  type PublishOptions,
} from '@kindling/core';

export type EventFilter = (event: CloudEvent) => boolean;

/** One publish the bus was asked for, and how it ended. */
export interface PublishRecord {
  subject: string;
  event: CloudEvent;
  msgId: string | undefined;
  /** `stored`: a new message; `duplicate`: absorbed by the msg id; `failed`: rejected; `pending`: not settled yet. */
  outcome: 'pending' | 'stored' | 'duplicate' | 'failed';
}

/** A publish held by `hangNextPublish`, until the test lets it go. */
export interface HungPublish {
  /** Resolves once a publish has been caught and is being held. */
  readonly caught: Promise<PublishRecord>;
  /** Ends the held publish: with an error (a bus timeout), or by publishing it after all. */
  release(error?: Error): void;
}

/**
 * An `EventBus` over a real one, with faults on demand: the next publish fails, or hangs until
 * released. It records every publish, so that a test can tell what was stored, absorbed as a
 * duplicate, or refused.
 */
export class FaultyBus implements EventBus {
  readonly publishes: PublishRecord[] = [];
  private failure: { count: number; when: EventFilter } | undefined;
  private hang: { when: EventFilter; catch(record: PublishRecord): void; wait: Promise<Error | undefined> } | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly inner: EventBus) {}

  /**
   * The next `count` publishes of events that pass `when` reject with a `KND_BUS_UNAVAILABLE`
   * error, as a bus outage would.
   */
  failNextPublish(count = 1, when: EventFilter = () => true): void {
    this.failure = { count, when };
  }

  /** The next publish of an event that passes `when` is held until `release` is called on what this returns. */
  hangNextPublish(when: EventFilter = () => true): HungPublish {
    let caught!: (record: PublishRecord) => void;
    let release!: (error: Error | undefined) => void;
    const caughtPromise = new Promise<PublishRecord>((resolve) => (caught = resolve));
    const wait = new Promise<Error | undefined>((resolve) => (release = resolve));
    this.hang = { when, catch: caught, wait };
    return { caught: caughtPromise, release: (error) => release(error) };
  }

  /** Publishes not settled yet. */
  get pending(): number {
    return this.inFlight.size;
  }

  async publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishAck> {
    const record: PublishRecord = { subject, event: decodeJson<CloudEvent>(data), msgId: options?.msgId, outcome: 'pending' };
    this.publishes.push(record);
    const work = this.publishRecorded(record, data, options);
    this.inFlight.add(work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  private async publishRecorded(record: PublishRecord, data: Uint8Array, options?: PublishOptions): Promise<PublishAck> {
    try {
      const hang = this.hang;
      const failure = this.failure;
      if (hang?.when(record.event)) {
        this.hang = undefined;
        hang.catch(record);
        const error = await hang.wait;
        if (error) throw error;
      } else if (failure && failure.count > 0 && failure.when(record.event)) {
        failure.count--;
        throw new KindlingError('KND_BUS_UNAVAILABLE', 'publish failed: the event bus is unavailable (a fault injected by the conformance kit)');
      }
      const ack = await this.inner.publish(record.subject, data, options);
      record.outcome = ack.duplicate ? 'duplicate' : 'stored';
      return ack;
    } catch (error) {
      record.outcome = 'failed';
      throw error;
    }
  }

  consume(options: ConsumeOptions, handler: MessageHandler): Promise<Consumption> {
    return this.inner.consume(options, handler);
  }

  notify(subject: string, data: Uint8Array): void {
    this.inner.notify(subject, data);
  }

  listen(subject: string, handler: (data: Uint8Array, subject: string) => void): Listener {
    return this.inner.listen(subject, handler);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
