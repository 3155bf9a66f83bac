import {
  createLogger,
  decodeJson,
  FeedHost,
  FeedRepository,
  ProviderRegistry,
  randomId,
  Subjects,
  type CloudEvent,
  type Consumption,
  type EventBus,
  type FeedRecord,
  type FeedStatusRecord,
  type KeyValueStore,
} from '@kindling/core';
import { mqttProvider } from '@kindling/mqtt';
import { Writable } from 'node:stream';

export async function until<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Provider hosts running the MQTT provider on a backend, with every log line they write kept
 * (to check that no secret reaches one), feeds written straight to the store, and the events
 * they fire read back from the bus.
 */
export class MqttHarness {
  readonly registry = new ProviderRegistry([mqttProvider]);
  readonly logLines: string[] = [];
  private readonly hosts: FeedHost[] = [];
  private readonly consumptions: Consumption[] = [];
  private repo!: FeedRepository;

  constructor(
    readonly backend: { bus: EventBus; store: KeyValueStore },
    readonly namespace = `mqtt-${randomId(4)}`,
  ) {}

  async open(): Promise<this> {
    this.repo = await FeedRepository.open(this.backend.store);
    return this;
  }

  async newHost(options: { bus?: EventBus; hostId?: string } = {}): Promise<FeedHost> {
    const lines = this.logLines;
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const host = new FeedHost({
      store: this.backend.store,
      bus: options.bus ?? this.backend.bus,
      registry: this.registry,
      log: createLogger({ level: 'debug', destination }),
      publicUrl: 'http://127.0.0.1:3233',
      hostId: options.hostId ?? `host-${randomId(3)}`,
      maxFailures: 5,
      backoff: { initialMs: 100, maxMs: 500, jitter: 0 },
    });
    await host.start();
    this.hosts.push(host);
    return host;
  }

  async stopHost(host: FeedHost): Promise<void> {
    this.hosts.splice(this.hosts.indexOf(host), 1);
    await host.stop();
  }

  /** Validates the parameters as the API would, and stores an active feed for `trigger`. */
  async putFeed(trigger: string, params: Record<string, unknown>, id = randomId(8)): Promise<FeedRecord> {
    const parsed = await this.registry.validateParams('mqtt', 'subscription', params, { log: createLogger({ level: 'silent' }), signal: new AbortController().signal });
    const record: FeedRecord = {
      id,
      namespace: this.namespace,
      trigger,
      provider: 'mqtt',
      kind: 'subscription',
      params: parsed,
      desired: 'active',
      generation: 1,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    };
    await this.repo.feeds.put(record.id, record);
    return record;
  }

  async putRecord(record: FeedRecord): Promise<void> {
    await this.repo.feeds.put(record.id, record);
  }

  async status(feedId: string): Promise<FeedStatusRecord | undefined> {
    return (await this.repo.statuses.get(feedId))?.value;
  }

  async untilStatus(feedId: string, status: FeedStatusRecord['status'], timeoutMs = 10_000): Promise<FeedStatusRecord> {
    return until(async () => {
      const current = await this.status(feedId);
      return current?.status === status ? current : undefined;
    }, `feed ${feedId} ${status}`, timeoutMs);
  }

  /** Every event fired to `trigger` of this harness's namespace, from now on, kept in order. */
  async events(trigger: string): Promise<CloudEvent[]> {
    const events: CloudEvent[] = [];
    const consumption = await this.backend.bus.consume(
      { durable: `mqtt-test-${randomId(6)}`, filter: Subjects.event(this.namespace, trigger), maxInFlight: 256 },
      async (message) => {
        events.push(decodeJson<CloudEvent>(message.data));
        message.ack();
      },
    );
    this.consumptions.push(consumption);
    return events;
  }

  async close(): Promise<void> {
    for (const host of this.hosts.splice(0)) await host.stop();
    for (const consumption of this.consumptions.splice(0)) await consumption.stop();
  }
}
