import { decodeJson, randomId, Subjects, type CloudEvent, type Consumption, type EventBus } from '@kindling/core';

export interface CollectEventsOptions {
  /** The events of this trigger only (of `namespace`, default `guest`). */
  trigger?: string;
  namespace?: string;
  /** Any subject filter instead (default: `Subjects.allEvents`, every trigger's events). */
  filter?: string;
  /** Prefix of the durable consumer's name, which is unique per call (default `test`). */
  durablePrefix?: string;
  maxInFlight?: number;
  /** Keep only the first delivery of each event id: a redelivery is not a second fire. Default false. */
  unique?: boolean;
}

export interface CollectedEvents<T> {
  /** The trigger events, decoded, in the order the bus delivered them; grows as they arrive. */
  events: CloudEvent<T>[];
  consumption: Consumption;
}

/** Reads trigger events off `bus` from the start of the events stream, on a durable consumer of its own. */
export async function collectEvents<T = unknown>(bus: EventBus, options: CollectEventsOptions = {}): Promise<CollectedEvents<T>> {
  const { trigger, namespace = 'guest', durablePrefix = 'test', maxInFlight, unique = false } = options;
  const filter = options.filter ?? (trigger === undefined ? Subjects.allEvents : Subjects.event(namespace, trigger));
  const events: CloudEvent<T>[] = [];
  const seen = new Set<string>();
  const consumption = await bus.consume({ durable: `${durablePrefix}-${randomId(4)}`, filter, ...(maxInFlight === undefined ? {} : { maxInFlight }) }, async (message) => {
    const event = decodeJson<CloudEvent<T>>(message.data);
    if (!unique || !seen.has(event.id)) events.push(event);
    seen.add(event.id);
    message.ack();
  });
  return { events, consumption };
}
