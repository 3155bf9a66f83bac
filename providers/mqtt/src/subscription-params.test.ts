import { describe, expect, it } from '@jest/globals';
import { createLogger } from '@kindling/sdk';
import { ProviderRegistry } from '@kindling/provider-testkit';
import { mqttProvider } from './mqtt-provider.js';
import { decodePayload, fieldAt } from './payload-decoder.js';

const registry = new ProviderRegistry([mqttProvider]);
const validate = (params: Record<string, unknown>) =>
  registry.validateParams('mqtt', 'subscription', params, { log: createLogger({ level: 'silent' }), signal: new AbortController().signal });

describe('mqtt/subscription parameters', () => {
  it('fill in the defaults: QoS 1, persistent session, MQTT 3.1.1, JSON', async () => {
    expect(await validate({ url: 'mqtt://127.0.0.1:1883', topic: 'sensors/+/temperature' })).toEqual({
      url: 'mqtt://127.0.0.1:1883',
      topic: 'sensors/+/temperature',
      qos: 1,
      clean: false,
      rejectUnauthorized: true,
      protocolVersion: 4,
      format: 'json',
      maxPayloadBytes: 262_144,
    });
  });

  it.each([
    [{ url: 'http://broker:1883', topic: 'a' }, 'url', "scheme 'http' is not supported: use mqtt, mqtts, ws or wss"],
    [{ url: 'broker:1883', topic: 'a' }, 'url', "scheme 'broker' is not supported"],
    [{ url: 'not a url', topic: 'a' }, 'url', 'must be a broker URL'],
    [{ url: 'mqtt://u:p@broker', topic: 'a' }, 'url', 'must not carry credentials'],
    [{ url: 'mqtt://broker', topic: 'a/#/b' }, 'topic', "'#' must be the last level"],
    [{ url: 'mqtt://broker', topic: ['a/+', 'b/c+'] }, 'topic.1', "'+' must be a whole level"],
    [{ url: 'mqtt://broker', topic: [] }, 'topic', 'at least one topic filter'],
    [{ url: 'mqtt://broker', topic: 'a', qos: 3 }, 'qos', 'must be 0, 1 or 2'],
    [{ url: 'mqtt://broker', topic: 'a', protocolVersion: 3 }, 'protocolVersion', 'must be 4 (MQTT 3.1.1) or 5 (MQTT 5)'],
    [{ url: 'mqtt://broker', topic: 'a', format: 'xml' }, 'format', ''],
    [{ url: 'mqtt://broker', topic: 'a', filter: { payload: { $where: 'true' } } }, 'filter', '$where is not allowed'],
    [{ url: 'mqtt://broker', topic: 'a', filter: { a: { $nope: 1 } } }, 'filter', 'unknown query operator $nope'],
    [{ url: 'mqtt://broker', topic: 'a', filter: { $expr: { $nope: [1] } } }, 'filter', 'unknown expression operator $nope'],
    [{ url: 'mqtt://broker', topic: 'a', filter: 'temperature > 30' }, 'filter', 'must be an object holding a MongoDB query'],
    [{ url: 'mqtt://broker', topic: 'a', idField: 'id', format: 'text' }, 'idField', "needs format 'json'"],
    [{ url: 'mqtt://broker', topic: 'a', ca: 'PEM' }, 'ca', 'use an mqtts:// or wss:// url'],
    [{ url: 'mqtts://broker', topic: 'a', cert: 'PEM' }, 'key', 'needs both cert and key'],
    [{ url: 'mqtt://broker', topic: 'a', password: 'x' }, 'username', 'required when a password is given'],
    [{ url: 'mqtt://broker', topic: 'a', shareGroup: 'a/b' }, 'shareGroup', "must not contain '/'"],
    [{ url: 'mqtt://broker', topic: 'a', maxPayloadBytes: 10_000_000 }, 'maxPayloadBytes', 'must be at most 524288'],
    [{ url: 'mqtt://broker', topic: 'a', clientId: 'has space' }, 'clientId', 'printable ASCII'],
    [{ url: 'mqtt://broker', topic: 'a', colour: 'red' }, 'colour', 'unknown field'],
  ])('refuse %j, naming %s', async (params, field, message) => {
    const error = await validate(params).then(
      () => undefined,
      (e: unknown) => e as { code: string; field: string; message: string },
    );
    expect(error).toMatchObject({ code: 'KND_BAD_FEED_PARAMS', field });
    expect(error?.message).toContain(message);
  });

  it('declare the credentials and TLS material as secrets, masked when read back', () => {
    expect(registry.maskSecrets('mqtt', 'subscription', { url: 'mqtt://b', username: 'u', password: 'p', key: 'k' })).toEqual({
      url: 'mqtt://b',
      username: '********',
      password: '********',
      key: '********',
    });
  });
});

describe('payload decoding', () => {
  it('decodes each format and says what is wrong with a payload it cannot decode', () => {
    expect(decodePayload(Buffer.from('{"a":1}'), 'json', 100)).toEqual({ ok: true, payload: { a: 1 } });
    expect(decodePayload(Buffer.from(''), 'json', 100)).toMatchObject({ ok: false, payloadBase64: '', payloadBytes: 0 });
    expect(decodePayload(Buffer.from([0xc3, 0x28]), 'json', 100)).toMatchObject({ ok: false, error: 'payload is not valid UTF-8' });
    expect(decodePayload(Buffer.from('plain'), 'text', 100)).toEqual({ ok: true, payload: 'plain' });
    expect(decodePayload(Buffer.from('\ufeff{"bom":true}'), 'json', 100)).toEqual({ ok: true, payload: { bom: true } });
    expect(decodePayload(Buffer.from([1, 2]), 'binary', 100)).toEqual({ ok: true, payload: 'AQI=' });
    expect(decodePayload(Buffer.alloc(101), 'binary', 100)).toEqual({ ok: false, error: 'payload of 101 bytes exceeds maxPayloadBytes (100)', payloadBytes: 101 });
  });

  it('reads an id field by dotted path, only when it is a non-empty string or a number', () => {
    const payload = { id: 7, meta: { seq: 'abc', empty: '', list: [1] } };
    expect(fieldAt(payload, 'id')).toBe('7');
    expect(fieldAt(payload, 'meta.seq')).toBe('abc');
    expect(fieldAt(payload, 'meta.empty')).toBeUndefined();
    expect(fieldAt(payload, 'meta.list')).toBeUndefined();
    expect(fieldAt(payload, 'meta.missing')).toBeUndefined();
    expect(fieldAt('text', 'length')).toBeUndefined();
  });
});
