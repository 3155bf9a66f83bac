import { deliverToAll, type ConnectionTap, type InboundMessage } from './connection-tap.js';

/**
 * The outcome of a message taken in by a connection that went away before a feed claimed it:
 * not acknowledged, so the broker delivers it again, and not a failure to report.
 */
export class Abandoned extends Error {
  constructor() {
    super('the connection closed before a feed claimed the message');
  }
}
const ABANDONED = new Abandoned();

interface Parked {
  message: InboundMessage;
  subscriptionIds: number[] | undefined;
  until: number;
  settle(outcome: Promise<void>): void;
}

export interface ParkedMessagesOptions {
  graceMs: number;
  route(topic: string, subscriptionIds: number[] | undefined): ConnectionTap[];
  /** A message no feed claimed in time: it is acknowledged and dropped. */
  unclaimed(topic: string): void;
}

/**
 * Messages no running feed claims, held unacknowledged for a grace period: a host starting its
 * feeds one by one, or a feed restarting for an update, must not lose what the broker sends
 * meanwhile.
 */
export class ParkedMessages {
  private readonly parked = new Set<Parked>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: ParkedMessagesOptions) {}

  /** Resolves once a feed claimed and fired the message, or the grace ended (then it is dropped). */
  park(message: InboundMessage, subscriptionIds: number[] | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.parked.add({ message, subscriptionIds, until: Date.now() + this.options.graceMs, settle: (outcome) => void outcome.then(resolve, reject) });
      if (!this.timer) {
        this.timer = setInterval(() => this.expire(), Math.max(50, Math.min(500, this.options.graceMs / 4)));
        this.timer.unref();
      }
    });
  }

  /** A feed joined: delivers the messages that go to it now. */
  claim(): void {
    for (const parked of this.parked) {
      const taps = this.options.route(parked.message.topic, parked.subscriptionIds);
      if (taps.length === 0) continue;
      this.parked.delete(parked);
      parked.settle(deliverToAll(taps, parked.message));
    }
    this.stopTimerIfIdle();
  }

  /** The connection is going away: every parked message stays unacknowledged (rejects with Abandoned). */
  abandon(): void {
    for (const parked of this.parked) parked.settle(Promise.reject(ABANDONED));
    this.parked.clear();
    this.stopTimerIfIdle();
  }

  private expire(): void {
    const now = Date.now();
    for (const parked of this.parked) {
      if (parked.until > now) continue;
      this.parked.delete(parked);
      this.options.unclaimed(parked.message.topic);
      parked.settle(Promise.resolve());
    }
    this.stopTimerIfIdle();
  }

  private stopTimerIfIdle(): void {
    if (this.parked.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
