import { toParams, type ActionRecord, type ActivationRecord, type ActivationResponse, type KeyValue } from '@kindling/core';
import type { ActionRuntime, RunOutcome } from '../runtime/action-runtime.js';

export interface RunActionInput {
  /** A code or blackbox action. */
  action: ActionRecord;
  /** The invocation's parameters; the action's default parameters fill in what they leave out. */
  params: Record<string, unknown>;
  activationId: string;
  /** The invoking namespace; default: the action's. */
  namespace?: string;
  /** Who invoked, for the record's `subject`; default: the namespace. */
  subject?: string;
  /** The activation that caused this one (a trigger's, or the enclosing sequence's). */
  cause?: string;
  /** Marks the record as a sequence component (`causedBy: sequence`). */
  causedBySequence?: boolean;
  /** Epoch ms of the request, for `waitTime`; default now. */
  requestedAt?: number;
  eventId?: string;
  /** `uuid:key` for the action (`__OW_API_KEY`). */
  apiKey?: string;
}

/**
 * Runs one activation of a code action on `runtime` and returns its activation record,
 * shaped as OpenWhisk's (not stored: that is the caller's choice).
 */
export async function runAction(runtime: ActionRuntime, input: RunActionInput): Promise<ActivationRecord> {
  const { action } = input;
  const namespace = input.namespace ?? action.namespace;
  const outcome = await runtime.run({
    action,
    params: { ...toParams(action.parameters), ...input.params },
    activationId: input.activationId,
    namespace,
    requestedAt: input.requestedAt ?? Date.now(),
    ...(input.apiKey ? { apiKey: input.apiKey } : {}),
  });
  return activationRecordOf(action, outcome, { ...input, namespace });
}

/** The record of a run, with OpenWhisk's annotations in OpenWhisk's order. */
export function activationRecordOf(action: ActionRecord, outcome: RunOutcome, input: RunActionInput & { namespace: string }): ActivationRecord {
  const annotations: KeyValue[] = [
    { key: 'limits', value: action.limits },
    { key: 'path', value: `${action.namespace}/${action.name}` },
    { key: 'kind', value: action.exec.kind },
    { key: 'timeout', value: outcome.timedOut },
  ];
  if (input.causedBySequence) annotations.push({ key: 'causedBy', value: 'sequence' });
  if (outcome.initTime !== undefined) annotations.push({ key: 'initTime', value: outcome.initTime });
  annotations.push({ key: 'waitTime', value: outcome.waitTime });
  return {
    namespace: input.namespace,
    name: action.name,
    subject: input.subject ?? input.namespace,
    activationId: input.activationId,
    start: outcome.start,
    end: outcome.end,
    duration: outcome.end - outcome.start,
    ...(input.cause ? { cause: input.cause } : {}),
    response: outcome.response,
    logs: outcome.logs,
    annotations,
    version: action.version,
    publish: false,
    ...(input.eventId ? { eventId: input.eventId } : {}),
  };
}

/** A record for an activation that never reached a runtime (its action is gone, say). */
export function failedActivationRecord(
  input: { namespace: string; name: string; activationId: string; subject?: string; cause?: string; eventId?: string; requestedAt?: number },
  response: ActivationResponse,
): ActivationRecord {
  const now = Date.now();
  return {
    namespace: input.namespace,
    name: input.name,
    subject: input.subject ?? input.namespace,
    activationId: input.activationId,
    start: now,
    end: now,
    duration: 0,
    ...(input.cause ? { cause: input.cause } : {}),
    response,
    logs: [],
    annotations: [
      { key: 'path', value: `${input.namespace}/${input.name}` },
      { key: 'waitTime', value: Math.max(0, now - (input.requestedAt ?? now)) },
    ],
    version: '0.0.0',
    publish: false,
    ...(input.eventId ? { eventId: input.eventId } : {}),
  };
}
