import {
  assertEntityName,
  bumpVersion,
  defaultLimits,
  KindlingError,
  parseQualifiedName,
  type ActionExec,
  type ActionPut,
  type ActionRecord,
  type KeyValue,
} from '@kindling/core';

/** Base64 of a zip (`PK\x03\x04`) or gzip (`\x1f\x8b\x08`) archive: OpenWhisk's binary code. */
function isBinaryCode(code: string | undefined): boolean {
  if (!code) return false;
  return /^(UEsDB|H4sI)/.test(code) && /^[A-Za-z0-9+/=\s]+$/.test(code);
}

function mergeAnnotations(base: readonly KeyValue[], changes: readonly KeyValue[] = [], removed: readonly string[] = []): KeyValue[] {
  const merged = new Map<string, unknown>(base.map((kv) => [kv.key, kv.value]));
  for (const kv of changes) merged.set(kv.key, kv.value);
  for (const key of removed) merged.delete(key);
  return [...merged].map(([key, value]) => ({ key, value }));
}

/**
 * The exec as stored: `binary` recomputed, sequence components fully qualified (`_` resolved).
 * Components must be actions of the caller's own namespace.
 */
export function normalizeExec(exec: NonNullable<ActionPut['exec']>, namespace: string): ActionExec {
  if ('components' in exec) {
    const components = exec.components.map((component, index) => {
      const field = `exec.components.${index}`;
      const q = parseQualifiedName(component, namespace);
      if (q.namespace !== namespace) {
        throw new KindlingError('KND_FORBIDDEN', `'${field}': ${component} is not in your namespace; a sequence may only use your own actions.`, { field });
      }
      assertEntityName(q.name, field);
      return `/${q.namespace}/${q.name}`;
    });
    return { kind: 'sequence', components };
  }
  const out: { kind: string; code?: string; main?: string; image?: string; binary: boolean } = { kind: exec.kind, binary: isBinaryCode(exec.code) };
  if (exec.code !== undefined) out.code = exec.code;
  if (exec.main !== undefined) out.main = exec.main;
  if (exec.image !== undefined) out.image = exec.image;
  return out as ActionExec;
}

/** A new action from a PUT body, with the annotations OpenWhisk adds on create. */
export function newAction(namespace: string, name: string, put: ActionPut): ActionRecord {
  if (!put.exec) throw new KindlingError('KND_VALIDATION', "'exec' undefined: a new action needs an exec ({kind, code} or {kind: 'sequence', components}).", { field: 'exec' });
  const exec = normalizeExec(put.exec, namespace);
  let annotations = mergeAnnotations([], put.annotations, put.delAnnotations);
  if (!annotations.some((kv) => kv.key === 'provide-api-key')) annotations.push({ key: 'provide-api-key', value: false });
  annotations = mergeAnnotations(annotations, [{ key: 'exec', value: exec.kind }]);
  return {
    namespace,
    name,
    version: put.version ?? '0.0.1',
    publish: put.publish ?? false,
    annotations,
    updated: Date.now(),
    exec,
    parameters: put.parameters ?? [],
    limits: { ...defaultLimits(), ...put.limits },
  };
}

/** An update as OpenWhisk applies it: annotations and limits merged, parameters and exec replaced if given, patch version bumped. */
export function updatedAction(existing: ActionRecord, put: ActionPut): ActionRecord {
  const exec = put.exec ? normalizeExec(put.exec, existing.namespace) : existing.exec;
  const annotations = mergeAnnotations(existing.annotations, [...(put.annotations ?? []), { key: 'exec', value: exec.kind }], put.delAnnotations);
  return {
    ...existing,
    version: bumpVersion(existing.version),
    publish: put.publish ?? existing.publish,
    annotations,
    updated: Date.now(),
    exec,
    parameters: put.parameters ?? existing.parameters,
    limits: { ...existing.limits, ...put.limits },
  };
}
