import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Buckets, silentLogger } from '@kindling/core';
import { openEmbeddedBackend, type EmbeddedBackend } from '@kindling/embedded';
import { generateAuthKey, NamespaceStore, parseAuthKey } from './namespace-store.js';

describe('NamespaceStore', () => {
  let backend: EmbeddedBackend;
  let namespaces: NamespaceStore;

  beforeEach(async () => {
    backend = await openEmbeddedBackend({ log: silentLogger() });
    namespaces = await NamespaceStore.open(backend.store);
  });

  afterEach(async () => {
    await backend.close();
  });

  it('generates OpenWhisk-style uuid:key pairs, each different', () => {
    const auth = generateAuthKey();
    expect(auth).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[A-Za-z0-9]{64}$/);
    expect(generateAuthKey()).not.toBe(auth);
  });

  it('authenticates the key it was given, and no other, without storing the key', async () => {
    const auth = generateAuthKey();
    const { uuid, key } = parseAuthKey(auth);
    const record = await namespaces.ensureNamespace('guest', auth);
    expect(record).toMatchObject({ namespace: 'guest', uuid });
    expect(record.keyHash).toMatch(/^sha256\$[0-9a-f]{32}\$[0-9a-f]{64}$/);

    expect(await namespaces.authenticate({ uuid, key })).toBe('guest');
    expect(await namespaces.authenticate({ uuid, key: `${key}x` })).toBeNull();
    expect(await namespaces.authenticate({ uuid: 'unknown', key })).toBeNull();

    const bucket = await backend.store.bucket(Buckets.namespaces);
    for (const k of await bucket.keys()) expect(Buffer.from((await bucket.get(k))!.value).toString('utf8')).not.toContain(key);
  });

  it('is idempotent for the same key and replaces the key of a uuid given a new one', async () => {
    const auth = generateAuthKey();
    const first = await namespaces.ensureNamespace('guest', auth);
    expect((await namespaces.ensureNamespace('guest', auth)).keyHash).toBe(first.keyHash);

    const { uuid } = parseAuthKey(auth);
    await namespaces.ensureNamespace('guest', `${uuid}:a-new-key-for-the-same-uuid`);
    expect(await namespaces.authenticate(parseAuthKey(auth))).toBeNull();
    expect(await namespaces.authenticate({ uuid, key: 'a-new-key-for-the-same-uuid' })).toBe('guest');
  });

  it('refuses a malformed key or namespace with a message naming it', async () => {
    await expect(namespaces.ensureNamespace('guest', 'no-colon')).rejects.toThrow("'auth' must be '<uuid>:<key>'");
    await expect(namespaces.ensureNamespace('bad*ns', generateAuthKey())).rejects.toThrow("'namespace'");
  });
});
