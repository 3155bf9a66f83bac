import { DEFAULT_ACK_WAIT_MS, KindlingError } from '@kindling/core';
import { AckPolicy, DeliverPolicy, nanos, type ConsumerConfig, type JetStreamManager } from 'nats';
import { JsErrorCodes, jsErrorCode } from './nats-errors.js';

/** Unacked messages the server lets one durable have out, whatever its subscribers' slots. */
const MIN_MAX_ACK_PENDING = 1024;

export interface ConsumerWanted {
  stream: string;
  durable: string;
  filter: string;
  ackWaitMs: number | undefined;
  maxInFlight: number;
}

/**
 * Creates the durable pull consumer, or checks and updates the one that exists: the filter must
 * be the same; the ack wait follows the latest subscriber that names one; max_ack_pending grows
 * to cover the largest `maxInFlight` seen.
 */
export async function ensureConsumer(jsm: JetStreamManager, wanted: ConsumerWanted, mayRetry = true): Promise<void> {
  const maxAckPending = Math.max(MIN_MAX_ACK_PENDING, wanted.maxInFlight);
  let existing: ConsumerConfig | undefined;
  try {
    existing = (await jsm.consumers.info(wanted.stream, wanted.durable)).config;
  } catch (error) {
    if (jsErrorCode(error) !== JsErrorCodes.consumerNotFound) throw error;
  }
  if (existing) {
    if (existing.filter_subject !== wanted.filter) {
      throw new KindlingError('KND_CONFLICT', `consumer '${wanted.durable}' already exists with filter ${existing.filter_subject}, not ${wanted.filter}.`, { field: 'consume.filter' });
    }
    const patch: Partial<ConsumerConfig> = {};
    if (wanted.ackWaitMs !== undefined && existing.ack_wait !== nanos(wanted.ackWaitMs)) patch.ack_wait = nanos(wanted.ackWaitMs);
    if (existing.max_ack_pending !== -1 && (existing.max_ack_pending ?? 0) < maxAckPending) patch.max_ack_pending = maxAckPending;
    if (Object.keys(patch).length > 0) await jsm.consumers.update(wanted.stream, wanted.durable, patch);
    return;
  }
  try {
    await jsm.consumers.add(wanted.stream, {
      durable_name: wanted.durable,
      filter_subject: wanted.filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(wanted.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      max_ack_pending: maxAckPending,
    });
  } catch (error) {
    const code = jsErrorCode(error);
    if (code === JsErrorCodes.workQueueNotUnique || code === JsErrorCodes.workQueueMultipleUnfiltered) {
      throw new KindlingError('KND_CONFLICT', `work-queue stream ${wanted.stream} already has a consumer on a filter overlapping ${wanted.filter}.`, { field: 'consume.filter', cause: error });
    }
    // Another subscriber created it at the same moment: check it as an existing one.
    if (mayRetry) return ensureConsumer(jsm, wanted, false);
    throw error;
  }
}
