import { JsonBucket, type Versioned } from '../json-bucket.js';
import type { ActionRecord } from '../model/action.js';
import type { RuleRecord } from '../model/rule.js';
import type { TriggerRecord } from '../model/trigger.js';
import type { KeyValueStore } from '../store.js';
import { Buckets, entityKey, namespaceKeyPrefix } from '../subjects.js';

export type EntityKind = 'actions' | 'triggers' | 'rules';

export interface EntityTypes {
  actions: ActionRecord;
  triggers: TriggerRecord;
  rules: RuleRecord;
}

/** Typed access to the entity buckets, keyed by encoded namespace and name. */
export class EntityStore {
  private constructor(private readonly buckets: { [K in EntityKind]: JsonBucket<EntityTypes[K]> }) {}

  static async open(store: KeyValueStore): Promise<EntityStore> {
    const [actions, triggers, rules] = await Promise.all([
      store.bucket(Buckets.actions),
      store.bucket(Buckets.triggers),
      store.bucket(Buckets.rules),
    ]);
    return new EntityStore({ actions: new JsonBucket(actions), triggers: new JsonBucket(triggers), rules: new JsonBucket(rules) });
  }

  bucket<K extends EntityKind>(kind: K): JsonBucket<EntityTypes[K]> {
    return this.buckets[kind];
  }

  get<K extends EntityKind>(kind: K, namespace: string, name: string): Promise<Versioned<EntityTypes[K]> | null> {
    return this.buckets[kind].get(entityKey(namespace, name));
  }

  /** Writes the entity; with `previousRevision` only if unchanged since (0: must not exist). */
  put<K extends EntityKind>(kind: K, entity: EntityTypes[K], options?: { previousRevision?: number }): Promise<number> {
    return this.buckets[kind].put(entityKey(entity.namespace, entity.name), entity, options);
  }

  delete(kind: EntityKind, namespace: string, name: string, options?: { previousRevision?: number }): Promise<void> {
    return this.buckets[kind].delete(entityKey(namespace, name), options);
  }

  /** All entities of a kind in a namespace, newest update first (as OpenWhisk lists). */
  async list<K extends EntityKind>(kind: K, namespace: string): Promise<EntityTypes[K][]> {
    const entries = await this.buckets[kind].list(namespaceKeyPrefix(namespace));
    return entries.map((e) => e.value).sort((a, b) => b.updated - a.updated);
  }
}
