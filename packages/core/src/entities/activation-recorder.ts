import type { ActivationRecord } from '../model/activation.js';
import type { ActivationStore } from './activation-store.js';

interface PendingRecord {
  record: ActivationRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Writes activation records in groups: the records handed over during one turn of the event
 * loop are written together on the next one, pipelined, so that a busy invoker or rule engine
 * sends them in one socket write rather than one each. `record` resolves only once its record
 * is durable, so a caller that acks its message after it keeps the guarantee that a record is
 * stored before its event or invocation is acknowledged.
 */
export class ActivationRecorder {
  private pending: PendingRecord[] = [];
  private scheduled = false;

  constructor(private readonly store: Pick<ActivationStore, 'put'>) {}

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
    for (const { record, resolve, reject } of group) this.store.put(record).then(resolve, reject);
  }
}
