import {
  activationIdFor,
  activationResponse,
  activationTime,
  annotation,
  defaultLimits,
  parseQualifiedName,
  toParams,
  MAX_SEQUENCE_LENGTH,
  type ActionRecord,
  type ActivationRecord,
  type ActivationResponse,
  type ActivationStore,
  type InvocationMessage,
  type KeyValue,
  type SequenceExec,
} from '@kindling/core';
import type { ActionBook } from './action-book.js';
import type { ActionRuntime } from '../runtime/action-runtime.js';
import { Messages } from '../runtime/messages.js';
import { failedActivationRecord, runAction } from './run-action.js';

export interface ActionExecutorOptions {
  runtime: ActionRuntime;
  /** Where actions are read from: a watch-fed copy of the actions bucket. */
  actions: ActionBook;
  /** Where sequence components' records go (and are looked up, so a redelivered sequence reruns no component). */
  activations: ActivationStore;
  /** Called after each component record is stored (the invoker tells blocking callers). */
  onComponentRecord?: (record: ActivationRecord) => void;
  /** The `uuid:key` of a namespace, for actions annotated `provide-api-key`. */
  resolveApiKey?: (namespace: string) => Promise<string | undefined>;
}

interface SequenceRun {
  params: Record<string, unknown>;
  activationId: string;
  namespace: string;
  subject: string;
  cause: string | undefined;
  eventId: string | undefined;
  requestedAt: number;
  topmost: boolean;
  /** Atomic actions run so far under the topmost sequence, shared by nested ones. */
  budget: { atomicActions: number };
}

/**
 * Runs what an invocation asks for: a code action on the runtime, or a sequence, component by
 * component, each output the next input. Returns the invocation's own record, not stored.
 */
export class ActionExecutor {
  constructor(private readonly options: ActionExecutorOptions) {}

  /** Runs the invocation. */
  async execute(invocation: InvocationMessage): Promise<ActivationRecord> {
    const { namespace, action: name } = invocation;
    const subject = invocation.subject ?? namespace;
    const action = await this.options.actions.get(namespace, name);
    if (!action) {
      return failedActivationRecord(
        { ...invocation, name, subject },
        activationResponse(1, { error: Messages.actionNotFound(`/${namespace}/${name}`) }),
      );
    }
    if (action.exec.kind === 'sequence') {
      return this.runSequence(action, {
        params: invocation.params,
        activationId: invocation.activationId,
        namespace,
        subject,
        cause: invocation.cause,
        eventId: invocation.eventId,
        requestedAt: invocation.requestedAt,
        topmost: true,
        budget: { atomicActions: 0 },
      });
    }
    return runAction(this.options.runtime, {
      action,
      params: invocation.params,
      activationId: invocation.activationId,
      namespace,
      subject,
      ...(invocation.cause ? { cause: invocation.cause } : {}),
      ...(invocation.eventId ? { eventId: invocation.eventId } : {}),
      requestedAt: invocation.requestedAt,
      ...(await this.apiKeyFor(action, namespace)),
    });
  }

  private async runSequence(sequence: ActionRecord, run: SequenceRun): Promise<ActivationRecord> {
    const start = Date.now();
    const { components } = sequence.exec as SequenceExec;
    const componentIds: string[] = [];
    let input: Record<string, unknown> = { ...toParams(sequence.parameters), ...run.params };
    let response: ActivationResponse = activationResponse(0, input);
    let duration = 0;
    let maxMemory = 0;
    for (const [index, component] of components.entries()) {
      // Derived from the sequence's id, so that a redelivered sequence finds the components it already ran.
      const componentId = activationIdFor(activationTime(run.activationId) + index + 1, 'sequence-component', run.activationId, String(index));
      let record = await this.options.activations.get(run.namespace, componentId);
      if (!record) {
        const ref = parseQualifiedName(component, run.namespace);
        const action = await this.options.actions.get(ref.namespace, ref.name);
        if (!action) {
          response = activationResponse(1, { error: Messages.sequenceComponentNotFound(`/${ref.namespace}/${ref.name}`) });
          break;
        }
        const nested = action.exec.kind === 'sequence';
        if (!nested && run.budget.atomicActions >= MAX_SEQUENCE_LENGTH) {
          response = activationResponse(1, { error: Messages.sequenceTooLong });
          break;
        }
        const child = { activationId: componentId, namespace: run.namespace, subject: run.subject, cause: run.activationId, requestedAt: Date.now() };
        if (nested) {
          record = await this.runSequence(action, { ...child, params: input, eventId: undefined, topmost: false, budget: run.budget });
        } else {
          run.budget.atomicActions++;
          record = await runAction(this.options.runtime, { ...child, action, params: input, causedBySequence: true, ...(await this.apiKeyFor(action, run.namespace)) });
        }
        await this.options.activations.put(record);
        this.options.onComponentRecord?.(record);
      }
      componentIds.push(record.activationId);
      duration += record.duration ?? 0;
      maxMemory = Math.max(maxMemory, memoryOf(record));
      response = record.response;
      if (!response.success) break;
      input = isJsonContainer(response.result) ? (response.result as Record<string, unknown>) : {};
    }
    const end = Date.now();
    const annotations: KeyValue[] = [
      { key: 'topmost', value: run.topmost },
      { key: 'path', value: `${sequence.namespace}/${sequence.name}` },
      { key: 'kind', value: 'sequence' },
    ];
    if (!run.topmost) annotations.push({ key: 'causedBy', value: 'sequence' });
    annotations.push({ key: 'waitTime', value: Math.max(0, start - run.requestedAt) });
    const limits = { ...defaultLimits(), ...sequence.limits };
    annotations.push({ key: 'limits', value: { timeout: limits.timeout, memory: maxMemory || limits.memory, logs: limits.logs } });
    return {
      namespace: run.namespace,
      name: sequence.name,
      subject: run.subject,
      activationId: run.activationId,
      start,
      end,
      duration,
      ...(run.cause ? { cause: run.cause } : {}),
      response,
      logs: componentIds,
      annotations,
      version: sequence.version,
      publish: false,
      ...(run.eventId ? { eventId: run.eventId } : {}),
    };
  }

  private async apiKeyFor(action: ActionRecord, namespace: string): Promise<{ apiKey?: string }> {
    const wanted = annotation(action.annotations, 'provide-api-key');
    if (wanted !== true && wanted !== 'true') return {};
    const apiKey = await this.options.resolveApiKey?.(namespace);
    return apiKey ? { apiKey } : {};
  }
}

function isJsonContainer(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}

function memoryOf(record: ActivationRecord): number {
  const limits = annotation(record.annotations, 'limits') as { memory?: unknown } | undefined;
  return typeof limits?.memory === 'number' ? limits.memory : 0;
}
