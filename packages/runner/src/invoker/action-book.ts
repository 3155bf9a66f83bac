import { BucketMirror, Buckets, entityKey, JsonBucket, type ActionRecord, type KeyValueStore, type Logger } from '@kindling/core';

/**
 * The actions an invoker runs, kept in memory by watching the actions bucket, as the rule engine
 * keeps its rules: an invocation costs no store read for its action. An action the copy does not
 * hold yet (created a moment ago, its watch event still on its way) is read from the store.
 */
export class ActionBook {
  private readonly actions = new Map<string, ActionRecord>();
  private mirror?: BucketMirror<ActionRecord>;
  private bucket?: JsonBucket<ActionRecord>;

  constructor(
    private readonly store: KeyValueStore,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const bucket = await this.store.bucket(Buckets.actions);
    this.bucket = new JsonBucket<ActionRecord>(bucket);
    this.mirror = new BucketMirror<ActionRecord>(
      bucket,
      {
        reset: (entries) => {
          this.actions.clear();
          for (const [key, action] of entries) this.actions.set(key, action);
        },
        change: (key, action) => {
          if (action === null) this.actions.delete(key);
          else this.actions.set(key, action);
        },
      },
      this.log,
    );
    await this.mirror.start();
  }

  async stop(): Promise<void> {
    await this.mirror?.stop();
  }

  /** Resolves once the copy reflects the actions-bucket write that returned `revision`. */
  reflects(revision: number): Promise<void> {
    return this.mirror ? this.mirror.reflects(revision) : Promise.resolve();
  }

  /** The action `namespace`/`name` (`package/action` for one in a package), or null when there is none. */
  async get(namespace: string, name: string): Promise<ActionRecord | null> {
    const key = entityKey(namespace, name);
    const held = this.actions.get(key);
    if (held) return held;
    return (await this.bucket?.get(key))?.value ?? null;
  }
}
