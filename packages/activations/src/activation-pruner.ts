import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { messageOf, systemClock, type ActivationStore, type Clock, type Logger, type TimerHandle } from '@kindling/core';

export interface ActivationPrunerOptions {
  store: ActivationStore;
  log: Logger;
  /** Time between rounds. Default one minute. */
  intervalMs?: number;
  clock?: Clock;
}

const DEFAULT_INTERVAL_MS = 60_000;

/**
 * Applies a store's retention continuously: every interval, `prune` steps run one after another,
 * each small, with the event loop free between them, until the store says nothing is left. A
 * failing round is logged and the next one tries again.
 */
export class ActivationPruner {
  private timer: TimerHandle | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: ActivationPrunerOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** One whole round now (what the timer runs): resolves with the number of records removed. */
  async runOnce(): Promise<number> {
    let removed = 0;
    for (;;) {
      const step = await this.options.store.prune((this.options.clock ?? systemClock).now());
      removed += step.removed;
      if (step.done || this.stopped) return removed;
      await yieldToEventLoop();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) (this.options.clock ?? systemClock).clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  private schedule(delayMs: number): void {
    this.timer = (this.options.clock ?? systemClock).setTimeout(() => {
      this.round = this.runOnce()
        .then((removed) => {
          if (removed > 0) this.options.log.debug({ removed }, 'activation records pruned');
        })
        .catch((error) => this.options.log.warn({ err: messageOf(error) }, 'pruning activation records failed; the next round tries again'))
        .finally(() => {
          if (!this.stopped) this.schedule(this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
        });
    }, delayMs);
  }
}
