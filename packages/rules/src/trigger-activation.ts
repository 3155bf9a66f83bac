import { type ActivationRecord, type CloudEvent, type KeyValue, type TriggerRecord } from '@kindling/core';
import type { IndexedRule } from './rule-book.js';

/** What became of one active rule for one event. */
export type RuleOutcome =
  | { rule: IndexedRule; activationId: string }
  | { rule: IndexedRule; batched: true }
  | { rule: IndexedRule; skipped: string }
  | { rule: IndexedRule; error: string };

/** A failing filter is the rule author's error: OpenWhisk's "application error". */
const FILTER_FAILED_STATUS = 1;

/**
 * One line of a trigger activation's logs, in the JSON form OpenWhisk writes per rule:
 * `{"statusCode":0,"success":true,"activationId":…,"rule":"ns/rule","action":"ns/action"}`, or
 * `error` instead of `activationId`. Kindling adds `skipped` for a rule whose filter did not match,
 * and `batched` for a batched rule (the batch's activation lists this event among its `eventIds`).
 */
export function ruleLogLine(outcome: RuleOutcome): string {
  const { rule } = outcome;
  if ('activationId' in outcome) {
    return JSON.stringify({ statusCode: 0, success: true, activationId: outcome.activationId, rule: rule.path, action: rule.actionPath });
  }
  if ('batched' in outcome) {
    return JSON.stringify({ statusCode: 0, success: true, batched: true, rule: rule.path, action: rule.actionPath });
  }
  if ('skipped' in outcome) {
    return JSON.stringify({ statusCode: 0, success: true, skipped: outcome.skipped, rule: rule.path, action: rule.actionPath });
  }
  return JSON.stringify({ statusCode: FILTER_FAILED_STATUS, success: false, error: outcome.error, rule: rule.path, action: rule.actionPath });
}

export interface TriggerActivationInput {
  trigger: TriggerRecord;
  event: CloudEvent;
  activationId: string;
  /** The event time in epoch ms: the activation starts when the trigger fired. */
  start: number;
  /** The payload's parameters: the activation's result, as OpenWhisk records a fire. */
  payload: Record<string, unknown>;
  logs: string[];
}

/**
 * The record of one trigger fire, in OpenWhisk's shape: no `end` or `duration` (a fire has
 * none), a success response whose result is the payload, one log line per active rule.
 */
export function triggerActivationRecord(input: TriggerActivationInput): ActivationRecord {
  const { trigger, event } = input;
  const annotations: KeyValue[] = [
    { key: 'path', value: `${trigger.namespace}/${trigger.name}` },
    { key: 'source', value: event.source },
    { key: 'type', value: event.type },
  ];
  if (event.subject !== undefined) annotations.push({ key: 'subject', value: event.subject });
  return {
    namespace: trigger.namespace,
    name: trigger.name,
    subject: trigger.namespace,
    activationId: input.activationId,
    start: input.start,
    // As OpenWhisk's `ActivationResponse.success(payload)`: no `size` for a trigger.
    response: { status: 'success', statusCode: 0, success: true, result: input.payload },
    logs: input.logs,
    annotations,
    version: trigger.version,
    publish: false,
    eventId: event.id,
  };
}
