import {
  decodeJson,
  encodeJson,
  randomActivationId,
  Subjects,
  type ActionRecord,
  type ActivationRecord,
  type ActivationStore,
  type EventBus,
  type InvocationMessage,
  type Listener,
} from '@kindling/core';

export interface InvokeRequest {
  action: ActionRecord;
  /** The invocation payload; the invoker merges it over the action's default parameters. */
  payload: Record<string, unknown>;
  /** Namespace of the caller, for the activation's `subject`. */
  subject: string;
  /** Wait at most this long for the result; absent for a non-blocking invoke. */
  waitMs?: number;
}

export interface InvokeOutcome {
  activationId: string;
  /** The finished activation, when the invoke was blocking and it finished in time. */
  activation?: ActivationRecord;
}

/**
 * Publishes an invocation on `kindling.invoke.<ns>.<action>` and, for a blocking invoke, waits
 * for the invoker's "done" notification. The listener is opened before the publish, so a fast
 * action cannot finish unseen; the store is read once at the end in case the (not stored)
 * notification was lost.
 */
export class ActionInvoker {
  constructor(
    private readonly bus: EventBus,
    private readonly activations: ActivationStore,
  ) {}

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    const { action } = request;
    const activationId = randomActivationId();
    const message: InvocationMessage = {
      activationId,
      namespace: action.namespace,
      action: action.name,
      // As for rule invocations, the invoker lays the action's default parameters beneath these.
      params: request.payload,
      requestedAt: Date.now(),
      subject: request.subject,
    };
    const subject = Subjects.invocation(action.namespace, action.name);
    if (request.waitMs === undefined) {
      await this.bus.publish(subject, encodeJson(message), { msgId: activationId });
      return { activationId };
    }
    let listener: Listener | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const done = new Promise<ActivationRecord | null>((resolve) => {
        listener = this.bus.listen(Subjects.activationDone(action.namespace, activationId), (data) => resolve(recordIn(data, activationId)));
        timer = setTimeout(() => resolve(null), request.waitMs);
      });
      await this.bus.publish(subject, encodeJson(message), { msgId: activationId });
      const notified = await done;
      const activation = notified ?? (await this.activations.get(action.namespace, activationId)) ?? undefined;
      return activation ? { activationId, activation } : { activationId };
    } finally {
      clearTimeout(timer);
      listener?.stop();
    }
  }
}

/** The notification may carry the whole record, or only say that it is stored. */
function recordIn(data: Uint8Array, activationId: string): ActivationRecord | null {
  try {
    const value = decodeJson<Partial<ActivationRecord>>(data);
    return value && value.activationId === activationId && value.response ? (value as ActivationRecord) : null;
  } catch {
    return null;
  }
}
