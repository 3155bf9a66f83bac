import { DUPLICATE_WINDOW_MS, isWorkQueue, Streams } from '@kindling/core';
import { DiscardPolicy, nanos, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from 'nats';
import { JsErrorCodes, jsErrorCode } from './nats-errors.js';
import type { NatsScope } from './nats-scope.js';

/**
 * Creates core's `Streams` on the server, or brings existing ones to this configuration, so
 * that every process that connects may call it: file storage, a 2-minute duplicate window,
 * limits retention for events (kept `eventsMaxAgeMs`) and dead letters, work queue for invocations.
 */
export async function ensureStreams(jsm: JetStreamManager, scope: NatsScope, eventsMaxAgeMs: number): Promise<void> {
  for (const stream of Object.values(Streams)) {
    const config: Partial<StreamConfig> & { name: string } = {
      name: scope.name(stream.name),
      subjects: stream.subjects.map((subject) => scope.subject(subject)),
      retention: isWorkQueue(stream) ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      max_age: stream.name === Streams.events.name ? nanos(eventsMaxAgeMs) : 0,
      num_replicas: 1,
    };
    try {
      await jsm.streams.add(config);
    } catch (error) {
      // It exists with another configuration: update what may change (retention may not).
      if (jsErrorCode(error) !== JsErrorCodes.streamNameInUse) throw error;
      await jsm.streams.update(config.name, config);
    }
  }
}
