import { z } from 'zod';
import { KindlingError } from './errors.js';

/**
 * Entity names as OpenWhisk allows them: word characters, with `@`, `.`, `-` and spaces inside.
 * Such a name can contain characters that mean something on a NATS subject (`.` separates
 * tokens, spaces are illegal), so names never reach a subject or a key unencoded:
 * see {@link encodeToken}.
 */
const ENTITY_NAME = /^(?:\w|\w[\w@ .-]*[\w@.-])$/u;
export const MAX_NAME_LENGTH = 256;

export const entityNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
  .regex(ENTITY_NAME, 'must start with a letter, digit or underscore and contain only letters, digits, _, @, ., - and inner spaces');

export function assertEntityName(name: string, field = 'name'): string {
  const result = entityNameSchema.safeParse(name);
  if (!result.success) {
    throw new KindlingError('KND_BAD_NAME', `'${field}' ${JSON.stringify(name)} ${result.error.issues[0]?.message ?? 'is not a valid name'}.`, { field });
  }
  return name;
}

/**
 * Encodes any string into one token that is legal both in a NATS subject and in a JetStream
 * key-value key (`[-_=A-Za-z0-9]`): characters outside `[A-Za-z0-9_-]` become `=XX` per UTF-8
 * byte. The encoding is injective, so two names never share a subject.
 */
export function encodeToken(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const isSafe =
      (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x5f || byte === 0x2d;
    out += isSafe ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '=') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A fully qualified entity name: `/namespace/name` or `/namespace/package/name`. */
export interface QualifiedName {
  namespace: string;
  name: string;
}

/**
 * Parses `/ns/name`, `ns/name` or `name` (as OpenWhisk clients send them); `_` and a missing
 * namespace resolve to `defaultNamespace`.
 */
export function parseQualifiedName(value: string, defaultNamespace: string): QualifiedName {
  const parts = value.replace(/^\//, '').split('/');
  let namespace = defaultNamespace;
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (value.startsWith('/') || parts.length === 3) {
    namespace = parts[0] === '_' || parts[0] === '' ? defaultNamespace : (parts[0] ?? defaultNamespace);
    name = parts.slice(1).join('/');
  } else {
    name = parts.join('/');
  }
  return { namespace, name };
}

export function formatQualifiedName(q: QualifiedName): string {
  return `/${q.namespace}/${q.name}`;
}
