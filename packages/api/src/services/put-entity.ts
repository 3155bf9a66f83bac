import { KindlingError, type EntityKind, type EntityStore, type EntityTypes } from '@kindling/core';

/**
 * OpenWhisk's PUT: create, or with `overwrite=true` replace, refusing with 409 when the entity
 * exists and overwrite was not asked, or when someone else changed it in between.
 */
export async function putEntity<K extends EntityKind>(
  entities: EntityStore,
  kind: K,
  target: { namespace: string; name: string; overwrite: boolean },
  build: (existing: EntityTypes[K] | null) => Promise<EntityTypes[K]> | EntityTypes[K],
): Promise<EntityTypes[K]> {
  const existing = await entities.get(kind, target.namespace, target.name);
  if (existing && !target.overwrite) throw new KindlingError('KND_CONFLICT', 'resource already exists');
  const record = await build(existing?.value ?? null);
  try {
    await entities.put(kind, record, { previousRevision: existing?.revision ?? 0 });
  } catch (error) {
    if ((error as { code?: string }).code !== 'KND_CONFLICT') throw error;
    throw new KindlingError('KND_CONFLICT', existing ? 'Concurrent modification to resource detected.' : 'resource already exists', { cause: error });
  }
  return record;
}

export async function getEntity<K extends EntityKind>(entities: EntityStore, kind: K, namespace: string, name: string): Promise<EntityTypes[K]> {
  const entry = await entities.get(kind, namespace, name);
  if (!entry) throw new KindlingError('KND_NOT_FOUND', 'The requested resource does not exist.');
  return entry.value;
}
