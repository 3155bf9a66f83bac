import { describe, expect, it } from '@jest/globals';
import { createCloudEvent, encodeJson, encoder, entityKey, KindlingError, Subjects } from '@kindling/core';
import { payloadParams, readTriggerEvent } from './trigger-event.js';

function fieldOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(KindlingError);
    return (error as KindlingError).field;
  }
  throw new Error('no error');
}

describe('readTriggerEvent', () => {
  const subject = Subjects.event('guest', 'my trigger.v2');

  it('reads a CloudEvent and keys its trigger by the subject', () => {
    const event = createCloudEvent({ namespace: 'guest', trigger: 'my trigger.v2', data: { a: 1 }, time: 1_700_000_000_000 });
    const read = readTriggerEvent(subject, encodeJson(event));
    expect(read.event).toEqual(event);
    expect(read.timeMs).toBe(1_700_000_000_000);
    expect(read.triggerKey).toBe(entityKey('guest', 'my trigger.v2'));
  });

  it('names the field that makes an event unprocessable', () => {
    const event = createCloudEvent({ namespace: 'guest', trigger: 't', data: {} });
    expect(fieldOf(() => readTriggerEvent(subject, encoder.encode('{not json')))).toBe('(body)');
    expect(fieldOf(() => readTriggerEvent(subject, encodeJson([1])))).toBe('(body)');
    expect(fieldOf(() => readTriggerEvent(subject, encodeJson({ ...event, id: '' })))).toBe('id');
    expect(fieldOf(() => readTriggerEvent(subject, encodeJson({ ...event, time: 'yesterday' })))).toBe('time');
    expect(fieldOf(() => readTriggerEvent(subject, encodeJson({ ...event, kindlingtrigger: 7 })))).toBe('kindlingtrigger');
    expect(fieldOf(() => readTriggerEvent('other.subject', encodeJson(event)))).toBe('subject');
  });
});

describe('payloadParams', () => {
  it('spreads an object payload and wraps anything else', () => {
    expect(payloadParams({ a: 1 })).toEqual({ a: 1 });
    expect(payloadParams('text')).toEqual({ payload: 'text' });
    expect(payloadParams([1, 2])).toEqual({ payload: [1, 2] });
    expect(payloadParams(0)).toEqual({ payload: 0 });
    expect(payloadParams(null)).toEqual({});
    expect(payloadParams(undefined)).toEqual({});
  });
});
