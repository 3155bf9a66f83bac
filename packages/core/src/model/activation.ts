import type { KeyValue } from './common.js';

/** OpenWhisk's four activation outcomes. */
export const ActivationStatus = {
  success: { code: 0, text: 'success' },
  applicationError: { code: 1, text: 'application error' },
  developerError: { code: 2, text: 'action developer error' },
  internalError: { code: 3, text: 'whisk internal error' },
} as const;

export type ActivationStatusCode = 0 | 1 | 2 | 3;

export function statusText(code: ActivationStatusCode): string {
  return [ActivationStatus.success, ActivationStatus.applicationError, ActivationStatus.developerError, ActivationStatus.internalError][code]!.text;
}

export interface ActivationResponse {
  status: string;
  statusCode: ActivationStatusCode;
  success: boolean;
  result: unknown;
  size?: number;
}

/** An activation record, stored and served in OpenWhisk's shape. */
export interface ActivationRecord {
  namespace: string;
  name: string;
  subject: string;
  activationId: string;
  start: number;
  end?: number;
  duration?: number;
  cause?: string;
  response: ActivationResponse;
  logs: string[];
  annotations: KeyValue[];
  version: string;
  publish: boolean;
  /** Kindling: the CloudEvent id behind a trigger activation or a rule's invocation. */
  eventId?: string;
  /** Kindling: the CloudEvent ids a batch activation ran for, in the order they were delivered. */
  eventIds?: string[];
}

export function activationResponse(statusCode: ActivationStatusCode, result: unknown): ActivationResponse {
  const size = Buffer.byteLength(JSON.stringify(result ?? {}));
  return { status: statusText(statusCode), statusCode, success: statusCode === 0, result, size };
}

/** The message on `kindling.invoke.<ns>.<action>` that asks an invoker to run an action. */
export interface InvocationMessage {
  activationId: string;
  namespace: string;
  action: string;
  params: Record<string, unknown>;
  /** Epoch ms at which the invocation was requested. */
  requestedAt: number;
  /** The trigger activation (or sequence) that caused this one. */
  cause?: string;
  rule?: string;
  eventId?: string;
  /** The member events of a batch invocation (its params hold them as `events`). */
  eventIds?: string[];
  /** Namespace of the caller, for the activation record's `subject`. */
  subject: string;
}
