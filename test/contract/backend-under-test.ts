import type { BusMessage, EventBus, KeyValueStore, MessageHandler } from '@kindling/core';
import { eventually } from '@kindling/test-support';

/** What the contract suites need of a backend: its bus and store, and a look into a stream. */
export interface BackendUnderTest {
  bus: EventBus;
  store: KeyValueStore;
  /** Messages held by a stream named as in core's `Streams`. */
  streamInfo(stream: string): Promise<{ messages: number }>;
  /** Closes the backend and removes whatever it stored. */
  close(): Promise<void>;
}

export type OpenBackend = () => Promise<BackendUnderTest>;

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A handler that records every delivery and settles it as `settle` says (ack by default). */
export class Inbox {
  readonly received: BusMessage[] = [];

  constructor(private readonly settle: (message: BusMessage) => void | Promise<void> = (m) => m.ack()) {}

  readonly handler: MessageHandler = async (message) => {
    this.received.push(message);
    await this.settle(message);
  };

  get texts(): string[] {
    return this.received.map((m) => Buffer.from(m.data).toString('utf8'));
  }

  async waitFor(count: number, timeoutMs?: number): Promise<BusMessage[]> {
    await eventually(() => this.received.length >= count, `${count} deliveries (got ${this.received.length})`, timeoutMs);
    return this.received;
  }
}

export const text = (value: string) => new TextEncoder().encode(value);
export const str = (data: Uint8Array | null) => (data === null ? null : Buffer.from(data).toString('utf8'));
