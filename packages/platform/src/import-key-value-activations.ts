import { Buckets, JsonBucket, messageOf, type ActivationRecord, type ActivationStore, type KeyValueStore, type Logger } from '@kindling/core';

const BATCH = 256;

/**
 * Moves activation records that an earlier Kindling kept in the key-value bucket into `target`
 * (SQLite or PostgreSQL), a batch at a time: each batch is written to the target before it is
 * deleted from the bucket, so a crash midway loses nothing and the next start carries on.
 * Resolves with the number moved.
 */
export async function importKeyValueActivations(store: KeyValueStore, target: ActivationStore, log: Logger, signal?: AbortSignal): Promise<number> {
  const bucket = new JsonBucket<ActivationRecord>(await store.bucket(Buckets.activations));
  const keys = await bucket.keys();
  if (keys.length === 0) return 0;
  log.info({ records: keys.length }, 'moving activation records from the key-value store into the activation store');
  let moved = 0;
  for (let at = 0; at < keys.length && !signal?.aborted; at += BATCH) {
    const batch = keys.slice(at, at + BATCH);
    const entries = await Promise.all(batch.map(async (key) => ({ key, entry: await bucket.get(key) })));
    await target.putMany(entries.flatMap(({ entry }) => (entry ? [entry.value] : [])));
    await Promise.all(entries.map(({ key }) => bucket.delete(key)));
    moved += entries.length;
  }
  log.info({ records: moved, left: keys.length - moved }, 'activation records moved from the key-value store');
  return moved;
}

/**
 * The same, in the background: the platform serves meanwhile; `stop()` ends it after the batch
 * in hand (the next start carries on), and a failure is logged, to be retried at the next start.
 */
export function startKeyValueActivationImport(store: KeyValueStore, target: ActivationStore, log: Logger): { stop(): Promise<void> } {
  const abort = new AbortController();
  const running = importKeyValueActivations(store, target, log, abort.signal).then(
    () => undefined,
    (error) => log.warn({ err: messageOf(error) }, 'moving activation records from the key-value store failed; the next start tries again'),
  );
  return {
    stop() {
      abort.abort();
      return running;
    },
  };
}
