import type { ActionRecord, ActivationRecord, ReducedRule, RuleRecord, TriggerRecord } from '@kindling/core';

/** What OpenWhisk's list endpoints show of any entity. */
function summary(entity: { namespace: string; name: string; version: string; publish: boolean; annotations: unknown[]; updated: number }) {
  return {
    namespace: entity.namespace,
    name: entity.name,
    version: entity.version,
    publish: entity.publish,
    annotations: entity.annotations,
    updated: entity.updated,
  };
}

/** An action as `GET /actions/{name}` shows it; `code=false` leaves the code out. */
export function actionView(action: ActionRecord, options: { code?: boolean } = {}): Record<string, unknown> {
  if (options.code === false && 'code' in action.exec) {
    const { code: _code, ...exec } = action.exec;
    return { ...action, exec };
  }
  return { ...action };
}

export function actionSummary(action: ActionRecord): Record<string, unknown> {
  const binary = 'binary' in action.exec ? action.exec.binary : false;
  return { ...summary(action), limits: action.limits, exec: { binary } };
}

/** A trigger with the `rules` map OpenWhisk shows: `"ns/rule" → {action: {path, name}, status}`. */
export function triggerView(trigger: TriggerRecord, rules: readonly RuleRecord[]): Record<string, unknown> {
  const view: Record<string, unknown> = { ...trigger };
  const linked = rules.filter((rule) => rule.trigger.path === trigger.namespace && rule.trigger.name === trigger.name);
  if (linked.length > 0) {
    const map: Record<string, ReducedRule> = {};
    for (const rule of linked) map[`${rule.namespace}/${rule.name}`] = { action: rule.action, status: rule.status };
    view.rules = map;
  }
  return view;
}

export function triggerSummary(trigger: TriggerRecord): Record<string, unknown> {
  return summary(trigger);
}

export function ruleView(rule: RuleRecord): Record<string, unknown> {
  return { ...rule };
}

export function ruleSummary(rule: RuleRecord): Record<string, unknown> {
  return { ...summary(rule), status: rule.status, trigger: rule.trigger, action: rule.action };
}

/** The REST form of an activation's `response`: `{status, success, result, size}` (no statusCode). */
export function activationResponseView(activation: ActivationRecord): Record<string, unknown> {
  const { statusCode: _statusCode, ...response } = activation.response;
  return response;
}

export function activationView(activation: ActivationRecord): Record<string, unknown> {
  return { ...activation, response: activationResponseView(activation) };
}

/** The brief form of `GET /activations` without `docs=true`. */
export function activationBrief(activation: ActivationRecord): Record<string, unknown> {
  const brief: Record<string, unknown> = {
    namespace: activation.namespace,
    name: activation.name,
    version: activation.version,
    publish: activation.publish,
    annotations: activation.annotations,
    activationId: activation.activationId,
    start: activation.start,
    statusCode: activation.response.statusCode,
  };
  if (activation.cause !== undefined) brief.cause = activation.cause;
  if (activation.end !== undefined && activation.end > 0) {
    brief.end = activation.end;
    brief.duration = activation.duration ?? activation.end - activation.start;
  }
  return brief;
}
