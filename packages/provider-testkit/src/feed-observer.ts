import type { FireOptions } from '@kindling/sdk';

/** Where the feed stands, as the kit (playing the API) last set it. */
export type FeedPhase = 'active' | 'paused' | 'deleted' | 'host-down';

/** One `start` of a feed: the instance the host runs until it stops it. */
export interface InstanceRecord {
  readonly seq: number;
  readonly feedId: string;
  readonly generation: number;
  readonly signal: AbortSignal;
  /** Real time (ms) at which the host called `stop()`. */
  stopCalledAt?: number;
  /** Real time at which `stop()` returned (or threw); for an instance whose start failed, when it failed. */
  stopEndedAt?: number;
}

/** A call of `ctx.fire`, as the provider made it. */
export interface FireAttempt {
  readonly instance: InstanceRecord;
  /** The event as far as the provider chose it: data, id, time, subject. */
  readonly preview: Record<string, unknown>;
  /** Was the instance stopped (stop returned) when it called? */
  readonly afterStop: boolean;
  /** The feed's phase at the call. */
  readonly phase: FeedPhase;
  settled: boolean;
}

/**
 * What the instrumented provider did during a scenario: its instances, their stops, and every
 * fire it attempted, with the feed's phase at the time.
 */
export class FeedObserver {
  readonly instances: InstanceRecord[] = [];
  readonly fires: FireAttempt[] = [];
  private nextSeq = 1;

  constructor(
    private readonly phaseOf: () => FeedPhase,
    /** Told when an instance has stopped (its stop returned, or its start failed), before anything else runs. */
    private readonly onEnded: (instance: InstanceRecord, owner: string) => void = () => undefined,
  ) {}

  ended(instance: InstanceRecord, owner: string): void {
    instance.stopEndedAt = Date.now();
    this.onEnded(instance, owner);
  }

  started(feedId: string, generation: number, signal: AbortSignal): InstanceRecord {
    const record: InstanceRecord = { seq: this.nextSeq++, feedId, generation, signal };
    this.instances.push(record);
    return record;
  }

  fireCalled(instance: InstanceRecord, data: unknown, options: FireOptions | undefined): FireAttempt {
    const attempt: FireAttempt = {
      instance,
      preview: previewOf(data, options),
      afterStop: instance.stopEndedAt !== undefined,
      phase: this.phaseOf(),
      settled: false,
    };
    this.fires.push(attempt);
    return attempt;
  }

  /** Fires called and not settled yet. */
  get firesInFlight(): number {
    return this.fires.filter((fire) => !fire.settled).length;
  }
}

function previewOf(data: unknown, options: FireOptions | undefined): Record<string, unknown> {
  const time = options?.time;
  return {
    ...(options?.id === undefined ? {} : { id: options.id }),
    ...(time === undefined ? {} : { time: isoTime(time) }),
    ...(options?.subject === undefined ? {} : { subject: options.subject }),
    ...(options?.type === undefined ? {} : { type: options.type }),
    data,
  };
}

/** The time as an event would carry it; a time that is no date stays as the provider gave it. */
function isoTime(time: Date | string | number): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString();
}
