import { deterministicId } from '@kindling/sdk';
import { BSON } from 'mongodb';
import type { ChangeDocument, ResumeToken } from './change-source.js';

/**
 * The `data` of a `mongodb/changes` event: the change event as the server sent it, in relaxed
 * Extended JSON (an ObjectId is `{"$oid": "…"}`, a date `{"$date": "…"}`, plain numbers stay
 * numbers), without its `_id`: that is the resume token, from which the event id derives.
 */
export type MongoChange = Record<string, unknown> & { operationType: string };

/** The token as text: its `_data` string (what servers send), else its canonical Extended JSON. */
export function tokenText(token: ResumeToken): string {
  return typeof token._data === 'string' ? token._data : BSON.EJSON.stringify(token, { relaxed: false });
}

/** The event id: derived from the resume token, so a change delivered again fires once. */
export function eventIdOf(token: ResumeToken): string {
  return deterministicId('mongodb', tokenText(token));
}

export function changeData(change: ChangeDocument): MongoChange {
  const { _id: _token, ...rest } = change;
  return BSON.EJSON.serialize(rest, { relaxed: true }) as MongoChange;
}

/** When the change happened: its wall time (MongoDB 6.0+), else the seconds of its cluster time. */
export function changeTime(change: ChangeDocument): Date | undefined {
  if (change.wallTime instanceof Date) return change.wallTime;
  const clusterTime = change.clusterTime;
  if (clusterTime && 'getHighBits' in clusterTime) return new Date(clusterTime.getHighBits() * 1000);
  if (clusterTime && 't' in clusterTime && typeof clusterTime.t === 'number') return new Date(clusterTime.t * 1000);
  return undefined;
}

export function namespaceOf(change: Pick<ChangeDocument, 'ns'>): string | undefined {
  if (!change.ns) return undefined;
  return change.ns.coll ? `${change.ns.db}.${change.ns.coll}` : change.ns.db;
}

/** What a control event says happened, for the reason a feed is disabled with. */
export function endOfStreamReason(change: ChangeDocument): string | undefined {
  const ns = namespaceOf(change) ?? 'the watched namespace';
  switch (change.operationType) {
    case 'drop':
      return `collection ${ns} was dropped`;
    case 'rename':
      return `collection ${ns} was renamed to ${namespaceOf({ ns: change.to }) ?? 'another name'}`;
    case 'dropDatabase':
      return `database ${ns} was dropped`;
    default:
      return undefined;
  }
}

/** The feed's cursor: the token to resume after, and when its change happened. */
export interface MongoCursor {
  /** Canonical Extended JSON of the resume token. */
  token: string;
  time?: string;
}

export function serializeToken(token: ResumeToken): string {
  return BSON.EJSON.stringify(token, { relaxed: false });
}

export function parseToken(text: string): ResumeToken {
  return BSON.EJSON.parse(text, { relaxed: false }) as ResumeToken;
}
