import type { BusMessage } from '@kindling/core';
import type { JsMsg } from 'nats';

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A delivered JetStream message as a `BusMessage`. One object per message with its methods on
 * the prototype; headers and delivery info are read from the nats.js message only when asked
 * for, since the hot path (handle, then ack) needs neither.
 */
export class NatsBusMessage implements BusMessage {
  private parsedHeaders: Readonly<Record<string, string>> | undefined;

  constructor(
    private readonly message: JsMsg,
    readonly subject: string,
  ) {}

  get data(): Uint8Array {
    return this.message.data;
  }

  get headers(): Readonly<Record<string, string>> {
    if (this.parsedHeaders === undefined) {
      const natsHeaders = this.message.headers;
      if (!natsHeaders) this.parsedHeaders = NO_HEADERS;
      else {
        const headers: Record<string, string> = {};
        for (const key of natsHeaders.keys()) headers[key] = natsHeaders.get(key);
        this.parsedHeaders = headers;
      }
    }
    return this.parsedHeaders;
  }

  get deliveryCount(): number {
    return this.message.info.deliveryCount;
  }

  get seq(): number {
    return this.message.seq;
  }

  ack(): void {
    this.message.ack();
  }

  nak(delayMs?: number): void {
    this.message.nak(delayMs);
  }

  term(): void {
    this.message.term();
  }

  working(): void {
    this.message.working();
  }
}
