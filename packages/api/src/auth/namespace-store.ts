import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { assertEntityName, Buckets, encodeToken, JsonBucket, KindlingError, type KeyValueStore } from '@kindling/core';

/** One API key of a namespace. The key itself is never stored: only a salted hash of it. */
export interface NamespaceRecord {
  namespace: string;
  uuid: string;
  /** `sha256$<salt hex>$<digest hex>` */
  keyHash: string;
  createdAt: number;
}

/** An API key split at its colon, as OpenWhisk's `AUTH` value (`uuid:key`). */
export interface AuthKey {
  uuid: string;
  key: string;
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh `uuid:key` with a 64-character random key, in OpenWhisk's format. */
export function generateAuthKey(): string {
  const bytes = randomBytes(64);
  let key = '';
  // 256 % 62 leaves a small bias; rejecting bytes >= 248 removes it.
  for (let i = 0; key.length < 64; i++) {
    const byte = i < bytes.length ? bytes[i]! : randomBytes(1)[0]!;
    if (byte < 248) key += KEY_ALPHABET[byte % KEY_ALPHABET.length];
  }
  return `${randomUUID()}:${key}`;
}

export function parseAuthKey(value: string, field = 'auth'): AuthKey {
  const colon = value.indexOf(':');
  const uuid = colon > 0 ? value.slice(0, colon) : '';
  const key = colon > 0 ? value.slice(colon + 1) : '';
  if (!uuid || !key) throw new KindlingError('KND_VALIDATION', `'${field}' must be '<uuid>:<key>'`, { field });
  return { uuid, key };
}

function hashKey(key: string, salt: string): string {
  return createHash('sha256').update(salt).update('\u0000').update(key).digest('hex');
}

/**
 * A salted SHA-256 is enough here: keys are long random strings, not passwords a person chose,
 * and every request checks one, so a deliberately slow hash would cost on every call.
 */
function keyHashOf(key: string): string {
  const salt = randomBytes(16).toString('hex');
  return `sha256$${salt}$${hashKey(key, salt)}`;
}

function keyMatches(key: string, keyHash: string): boolean {
  const [scheme, salt, digest] = keyHash.split('$');
  if (scheme !== 'sha256' || !salt || !digest) return false;
  const expected = Buffer.from(digest, 'hex');
  const actual = Buffer.from(hashKey(key, salt), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Namespaces and their API keys, in the `kindling_namespaces` bucket keyed by key uuid. */
export class NamespaceStore {
  private constructor(private readonly bucket: JsonBucket<NamespaceRecord>) {}

  static async open(store: KeyValueStore): Promise<NamespaceStore> {
    return new NamespaceStore(new JsonBucket(await store.bucket(Buckets.namespaces)));
  }

  /**
   * Makes `auth` (`uuid:key`) a key of `namespace`, creating the namespace if needed. Idempotent:
   * an existing record with the same namespace and key is left alone; a different one for the
   * same uuid is replaced (the operator's `--auth` is the truth).
   */
  async ensureNamespace(namespace: string, auth: string): Promise<NamespaceRecord> {
    assertEntityName(namespace, 'namespace');
    const { uuid, key } = parseAuthKey(auth);
    const { value } = await this.bucket.update(encodeToken(uuid), (current) => {
      if (current && current.namespace === namespace && keyMatches(key, current.keyHash)) return current;
      return { namespace, uuid, keyHash: keyHashOf(key), createdAt: current?.createdAt ?? Date.now() };
    });
    return value;
  }

  /** The namespace `uuid:key` belongs to, or null when the key is unknown or wrong. */
  async authenticate(auth: AuthKey): Promise<string | null> {
    const entry = await this.bucket.get(encodeToken(auth.uuid));
    if (!entry || !keyMatches(auth.key, entry.value.keyHash)) return null;
    return entry.value.namespace;
  }

  async remove(uuid: string): Promise<void> {
    await this.bucket.delete(encodeToken(uuid));
  }
}
