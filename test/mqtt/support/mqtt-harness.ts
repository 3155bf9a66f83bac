import { randomId, type CloudEvent, type EventBus, type FeedRecord, type FeedStatusRecord, type KeyValueStore } from '@kindling/core';
import type { FeedHost } from '@kindling/host';
import { mqttProvider } from '@kindling/mqtt';
import { openFeedHarness, type FeedHarness } from '@kindling/provider-testkit';

/**
 * Provider hosts running the MQTT provider on a backend, with every log line they write kept
 * (to check that no secret reaches one), feeds written straight to the store, and the events
 * they fire read back from the bus: the kit's `FeedHarness`, in a namespace of its own.
 */
export class MqttHarness {
  private harness!: FeedHarness;

  constructor(
    readonly backend: { bus: EventBus; store: KeyValueStore },
    readonly namespace = `mqtt-${randomId(4)}`,
  ) {}

  async open(): Promise<this> {
    this.harness = await openFeedHarness({
      providers: [mqttProvider],
      backend: this.backend,
      hostOptions: { maxFailures: 5, backoff: { initialMs: 100, maxMs: 500, jitter: 0 } },
      feedDefaults: { namespace: this.namespace },
    });
    return this;
  }

  get logLines(): string[] {
    return this.harness.logLines;
  }

  newHost(options: { bus?: EventBus; hostId?: string } = {}): Promise<FeedHost> {
    return this.harness.startHost(options);
  }

  stopHost(host: FeedHost): Promise<void> {
    return this.harness.stopHost(host);
  }

  /** Validates the parameters as the API would, and stores an active feed for `trigger`. */
  putFeed(trigger: string, params: Record<string, unknown>, id = randomId(8)): Promise<FeedRecord> {
    return this.harness.putFeed(params, { trigger, id });
  }

  async putRecord(record: FeedRecord): Promise<void> {
    await this.harness.putRecord(record);
  }

  status(feedId: string): Promise<FeedStatusRecord | undefined> {
    return this.harness.statusOf(feedId);
  }

  untilStatus(feedId: string, status: FeedStatusRecord['status'], timeoutMs = 10_000): Promise<FeedStatusRecord> {
    return this.harness.waitForStatus(feedId, status, timeoutMs);
  }

  /** Every event fired to `trigger` of this harness's namespace, from now on, kept in order. */
  async events(trigger: string): Promise<CloudEvent[]> {
    return (await this.harness.collectEvents({ trigger, durablePrefix: 'mqtt-test', maxInFlight: 256 })).events;
  }

  close(): Promise<void> {
    return this.harness.close();
  }
}
