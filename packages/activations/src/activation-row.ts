import type { ActivationRecord } from '@kindling/core';

/** The columns an activation store indexes, beside the whole record (with its logs) as JSON. */
export interface ActivationRow {
  namespace: string;
  activationId: string;
  name: string;
  start: number;
  status: number;
  record: string;
}

export function activationRow(record: ActivationRecord): ActivationRow {
  return {
    namespace: record.namespace,
    activationId: record.activationId,
    name: record.name,
    start: record.start,
    status: record.response.statusCode,
    record: JSON.stringify(record),
  };
}

export function recordOf(json: string): ActivationRecord {
  return JSON.parse(json) as ActivationRecord;
}
