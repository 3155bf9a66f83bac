import type { ActivationRecord } from '../model/activation.js';
import type { ActivationStore } from './activation-store.js';

interface PendingRecord {
  record: ActivationRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes activation records in groups: the records handed over during one turn of the event
 * loop are written together on the next one with the store's `putMany` (one SQL transaction, or
 * pipelined puts in one socket write), so that a busy invoker or rule engine does not pay a
 * store round trip per record. `record` resolves only once its record is durable (a failed
 * group write fails every record of the group), so a caller that acks its message after it keeps
 * the guarantee that a record is stored before its event or invocation is acknowledged.
 */
export class ActivationRecorder {
  private pending: PendingRecord[] = [];
  private scheduled = false;

  constructor(private readonly store: Pick<ActivationStore, 'putMany'>) {}

  record(record: ActivationRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.pending;
    this.pending = [];
    this.store.putMany(group.map((entry) => entry.record)).then(
      () => {
        for (const entry of group) entry.resolve();
      },
      (error: unknown) => {
        for (const entry of group) entry.reject(error);
      },
    );
  }
}
