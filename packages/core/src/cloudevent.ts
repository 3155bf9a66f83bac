import { randomUUID } from 'node:crypto';

/** A CloudEvents 1.0 envelope in its JSON form, with Kindling's routing extensions. */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  subject?: string;
  datacontenttype: 'application/json';
  data: T;
  /** Extension: the namespace owning the trigger. */
  kindlingnamespace: string;
  /** Extension: the trigger the event fires. */
  kindlingtrigger: string;
}

export interface NewEvent<T> {
  namespace: string;
  trigger: string;
  data: T;
  id?: string;
  source?: string;
  type?: string;
  time?: Date | string | number;
  subject?: string;
}

export function createCloudEvent<T>(event: NewEvent<T>): CloudEvent<T> {
  const time = event.time === undefined ? new Date() : new Date(event.time);
  const envelope: CloudEvent<T> = {
    specversion: '1.0',
    id: event.id ?? randomUUID(),
    source: event.source ?? `/kindling/${event.namespace}/triggers/${event.trigger}`,
    type: event.type ?? 'dev.kindling.trigger.fired',
    time: time.toISOString(),
    datacontenttype: 'application/json',
    data: event.data,
    kindlingnamespace: event.namespace,
    kindlingtrigger: event.trigger,
  };
  if (event.subject !== undefined) envelope.subject = event.subject;
  return envelope;
}
