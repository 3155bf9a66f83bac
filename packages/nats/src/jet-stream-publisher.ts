import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';

/** The server's answer to a JetStream publish. */
export interface JetStreamAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

/** A JetStream API error in a publish ack (`{ error: { code, err_code, description } }`). */
export class JetStreamApiError extends Error {
  constructor(readonly api_error: { code: number; err_code?: number; description: string }) {
    super(api_error.description);
    this.name = 'JetStreamApiError';
  }
}

/** Default time the server has to ack a publish (nats.js's JetStream default too). */
export const DEFAULT_PUBLISH_ACK_TIMEOUT_MS = 5_000;

interface Pending {
  resolve(ack: JetStreamAck): void;
  reject(error: Error): void;
  subject: string;
  deadline: number;
}

const textDecoder = new TextDecoder();

/**
 * JetStream publishes without nats.js's per-request machinery (an async-trace Error, a timer and
 * a mux entry each): every ack comes back on ONE wildcard inbox subscription and is matched to
 * its publish by the reply token; one interval sweeps the publishes whose ack is overdue.
 * Rejections are plain Errors (or `JetStreamApiError`s) for the caller to map to its own code.
 */
export class JetStreamPublisher {
  private readonly pending = new Map<string, Pending>();
  private readonly inbox: string;
  private readonly subscription: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private next = 0;
  private closedReason: string | undefined;
  /** One executor for every publish's promise (no closure per publish); it runs synchronously. */
  private readonly captured: Pick<Pending, 'resolve' | 'reject'> = { resolve: () => {}, reject: () => {} };
  private readonly capture = (resolve: Pending['resolve'], reject: Pending['reject']): void => {
    this.captured.resolve = resolve;
    this.captured.reject = reject;
  };

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = DEFAULT_PUBLISH_ACK_TIMEOUT_MS,
  ) {
    this.inbox = `${createInbox()}.`;
    this.subscription = nc.subscribe(`${this.inbox}*`, { callback: (error, message) => (error ? this.failAll(error.message) : this.settle(message)) });
    // Pending entries are in publish order with one timeout, so a sweep stops at the first live one.
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1_000, timeoutMs / 4)));
    this.sweeper.unref();
    void nc.closed().then(() => this.close('the NATS connection closed'));
    void this.watchDisconnects();
  }

  /** Publishes `data` to `subject` and resolves with the server's ack. */
  publish(subject: string, data: Uint8Array, headers?: MsgHdrs): Promise<JetStreamAck> {
    if (this.closedReason !== undefined) return Promise.reject(new Error(this.closedReason));
    const token = (this.next++).toString(36);
    // Throws synchronously (max payload, closed connection) before anything is pending.
    this.nc.publish(subject, data, headers ? { reply: this.inbox + token, headers } : { reply: this.inbox + token });
    const promise = new Promise<JetStreamAck>(this.capture);
    this.pending.set(token, { resolve: this.captured.resolve, reject: this.captured.reject, subject, deadline: Date.now() + this.timeoutMs });
    return promise;
  }

  /** Rejects every pending publish and stops listening for acks. */
  close(reason = 'the JetStream publisher is closed'): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    clearInterval(this.sweeper);
    if (!this.nc.isClosed()) this.subscription.unsubscribe();
    this.failAll(reason);
  }

  private settle(message: Msg): void {
    const token = message.subject.slice(this.inbox.length);
    const pending = this.pending.get(token);
    if (!pending) return; // its publish already timed out
    this.pending.delete(token);
    if (message.data.length === 0) {
      const code = message.headers?.code;
      pending.reject(new Error(code === 503 ? `no JetStream stream holds ${pending.subject} (no responders)` : `empty JetStream ack (status ${code ?? 'none'})`));
      return;
    }
    let ack: { stream?: string; seq?: number; duplicate?: boolean; error?: { code: number; err_code?: number; description: string } };
    try {
      ack = JSON.parse(textDecoder.decode(message.data)) as typeof ack;
    } catch {
      pending.reject(new Error(`the JetStream ack for ${pending.subject} is not JSON`));
      return;
    }
    if (ack.error) pending.reject(new JetStreamApiError(ack.error));
    else if (!ack.stream || typeof ack.seq !== 'number') pending.reject(new Error(`invalid JetStream ack for ${pending.subject}`));
    else pending.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true });
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, pending] of this.pending) {
      if (pending.deadline > now) return;
      this.pending.delete(token);
      pending.reject(new Error(`no JetStream ack within ${this.timeoutMs} ms for ${pending.subject}`));
    }
  }

  private failAll(reason: string): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const entry of pending) entry.reject(new Error(`${reason} before the JetStream ack for ${entry.subject} arrived`));
  }

  /** A publish in flight when the connection drops may or may not be stored: its caller must retry. */
  private async watchDisconnects(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.failAll('the NATS connection dropped');
    }
  }
}
