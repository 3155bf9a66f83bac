import {
  BucketMirror,
  Buckets,
  Subjects,
  entityKey,
  JsonBucket,
  namespaceKeyPrefix,
  KindlingError,
  messageOf,
  toParams,
  type KeyValueStore,
  type Logger,
  type RuleRecord,
  type TriggerRecord,
} from '@kindling/core';
import { compileRuleFilter, type RuleFilter } from './rule-filter.js';

/** A trigger as the hot path needs it: its record and its default parameters as an object. */
export interface IndexedTrigger {
  record: TriggerRecord;
  params: Readonly<Record<string, unknown>>;
}

/** A trigger and its active rules. */
export interface TriggerEntry {
  trigger: IndexedTrigger;
  rules: IndexedRule[];
}

/** An active rule, ready to dispatch: names resolved, filter compiled once. */
export interface IndexedRule {
  record: RuleRecord;
  /** `ns/rule`, as OpenWhisk writes it in a trigger activation's logs. */
  path: string;
  /** `ns/action` (or `ns/package/action`). */
  actionPath: string;
  actionNamespace: string;
  /** The action's name within its namespace (`package/action` for a package action). */
  actionName: string;
  /** Where its invocations go: `Subjects.invocation(actionNamespace, actionName)`. */
  invocationSubject: string;
  filter?: RuleFilter;
  /** Why a stored filter cannot be compiled: the rule is then skipped, with this in the log. */
  filterError?: string;
}

/**
 * The in-memory index the rule engine dispatches from: every trigger, and the active rules of
 * each trigger, mirrored from the entity buckets by watching them. A change applies as soon as
 * its watch event arrives, and the hot path never reads the store.
 */
export class RuleBook {
  private readonly triggers = new Map<string, IndexedTrigger>();
  /** Every rule by its key, active or not, so that a change can find the old entry. */
  private readonly rules = new Map<string, RuleRecord>();
  /** Active rules by trigger key, then by rule key. */
  private readonly activeRules = new Map<string, Map<string, IndexedRule>>();
  private triggerMirror?: BucketMirror<TriggerRecord>;
  private ruleMirror?: BucketMirror<RuleRecord>;

  constructor(
    private readonly store: KeyValueStore,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const [triggers, rules] = await Promise.all([this.store.bucket(Buckets.triggers), this.store.bucket(Buckets.rules)]);
    const triggerMirror = new BucketMirror<TriggerRecord>(triggers, {
      reset: (entries) => {
        this.triggers.clear();
        for (const [key, record] of entries) this.setTrigger(key, record);
      },
      change: (key, record) => this.setTrigger(key, record),
    }, this.log);
    const ruleMirror = new BucketMirror<RuleRecord>(rules, {
      reset: (entries) => {
        this.rules.clear();
        this.activeRules.clear();
        for (const [key, record] of entries) this.setRule(key, record);
      },
      change: (key, record) => this.setRule(key, record),
    }, this.log);
    this.triggerMirror = triggerMirror;
    this.ruleMirror = ruleMirror;
    try {
      await Promise.all([triggerMirror.start(), ruleMirror.start()]);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.triggerMirror?.stop(), this.ruleMirror?.stop()]);
  }

  /** Resolves once the index reflects the write to `bucket` that returned `revision`. */
  reflects(bucket: 'triggers' | 'rules', revision: number): Promise<void> {
    const mirror = bucket === 'triggers' ? this.triggerMirror : this.ruleMirror;
    if (!mirror) throw new KindlingError('KND_INTERNAL', 'the rule index is not started');
    return mirror.reflects(revision);
  }

  /**
   * The trigger stored under `key` (`entityKey(namespace, name)`) and its active rules, from the
   * index: no store read.
   */
  lookup(key: string): TriggerEntry | undefined {
    const trigger = this.triggers.get(key);
    return trigger && { trigger, rules: [...(this.activeRules.get(key)?.values() ?? [])] };
  }

  /**
   * The same, read from the store: for an event whose trigger the index does not hold, which is
   * either deleted or so new that its watch event has not arrived yet. Only that rare path pays
   * for reads.
   */
  async lookupInStore(key: string): Promise<TriggerEntry | undefined> {
    const triggers = new JsonBucket<TriggerRecord>(await this.store.bucket(Buckets.triggers));
    const stored = await triggers.get(key);
    if (!stored) return undefined;
    const record = stored.value;
    const rules = new JsonBucket<RuleRecord>(await this.store.bucket(Buckets.rules));
    const active = (await rules.list(namespaceKeyPrefix(record.namespace)))
      .map(({ value }) => value)
      .filter((rule) => this.dispatchable(rule) && triggerKeyOf(rule) === key)
      .map(indexRule);
    return { trigger: { record, params: toParams(record.parameters) }, rules: active };
  }

  private setTrigger(key: string, record: TriggerRecord | null): void {
    if (record === null) this.triggers.delete(key);
    else this.triggers.set(key, { record, params: toParams(record.parameters) });
  }

  private setRule(key: string, record: RuleRecord | null): void {
    const previous = this.rules.get(key);
    if (previous) this.activeRules.get(triggerKeyOf(previous))?.delete(key);
    if (record === null) {
      this.rules.delete(key);
      return;
    }
    this.rules.set(key, record);
    if (!this.dispatchable(record)) return;
    const triggerKey = triggerKeyOf(record);
    let rules = this.activeRules.get(triggerKey);
    if (!rules) this.activeRules.set(triggerKey, (rules = new Map()));
    rules.set(key, indexRule(record));
  }

  /** Whether a stored rule is one to dispatch: active, and well formed. */
  private dispatchable(record: RuleRecord): boolean {
    if (record.status !== 'active') return false;
    // A rule binds a trigger of its own namespace; one that names another namespace's trigger
    // would let a tenant read another's events, so it is never dispatched.
    if (record.trigger?.path !== record.namespace) {
      this.log.warn({ rule: `${record.namespace}/${record.name}`, trigger: record.trigger }, 'rule names a trigger of another namespace; ignoring it');
      return false;
    }
    if (typeof record.action?.path !== 'string' || typeof record.action.name !== 'string') {
      this.log.warn({ rule: `${record.namespace}/${record.name}` }, 'rule has no action; ignoring it');
      return false;
    }
    return true;
  }
}

function triggerKeyOf(rule: RuleRecord): string {
  return entityKey(rule.trigger?.path ?? '', rule.trigger?.name ?? '');
}

function indexRule(record: RuleRecord): IndexedRule {
  const slash = record.action.path.indexOf('/');
  const actionNamespace = slash < 0 ? record.action.path : record.action.path.slice(0, slash);
  const actionPackage = slash < 0 ? '' : `${record.action.path.slice(slash + 1)}/`;
  const rule: IndexedRule = {
    record,
    path: `${record.namespace}/${record.name}`,
    actionPath: `${record.action.path}/${record.action.name}`,
    actionNamespace,
    actionName: `${actionPackage}${record.action.name}`,
    invocationSubject: Subjects.invocation(actionNamespace, `${actionPackage}${record.action.name}`),
  };
  if (record.filter !== undefined) {
    try {
      rule.filter = compileRuleFilter(record.filter);
    } catch (error) {
      rule.filterError = messageOf(error);
    }
  }
  return rule;
}
