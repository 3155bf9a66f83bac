import { statusText, type ActivationStatusCode, type KeyValue } from '@kindling/core';

/** A list entry: OpenWhisk's brief has `statusCode`, a full record `response.status`. */
export interface ActivationSummary {
  activationId: string;
  namespace?: string;
  name?: string;
  start?: number;
  duration?: number;
  statusCode?: number;
  response?: { status?: string };
  annotations?: KeyValue[];
}

/** `success`, `application error`, … from whichever of the two shapes the API sent. */
export function statusOf(activation: ActivationSummary): string {
  if (typeof activation.response?.status === 'string') return activation.response.status;
  const code = activation.statusCode;
  return code === 0 || code === 1 || code === 2 || code === 3 ? statusText(code as ActivationStatusCode) : '';
}
