import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { ContainerLogCollector } from './log-collector.js';
import { LOG_SENTINEL } from './messages.js';

const S = `${LOG_SENTINEL}\n`;

function collector(limitBytes = 1024) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  return { stdout, stderr, logs: new ContainerLogCollector(stdout, stderr, limitBytes) };
}

/** The log text without the timestamp: `stdout: hello`. */
const strip = (lines: string[]) => lines.map((line) => line.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, ''));

describe('ContainerLogCollector', () => {
  it('stamps each line with an ISO time and its stream', async () => {
    const { stdout, stderr, logs } = collector();
    stdout.write(`hello\n${S}`);
    stderr.write(S);
    const lines = await logs.collect(1000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout: hello$/);
  });

  it('cuts activations at the sentinel, waiting for it on both streams', async () => {
    const { stdout, stderr, logs } = collector();
    stdout.write(`one\n${S}two\n`);
    stderr.write(`err one\n`);
    const first = logs.collect(1000);
    stderr.write(`more\n${S}`);
    expect(strip(await first)).toEqual(['stdout: one', 'stderr: err one', 'stderr: more']);
    stdout.write(S);
    stderr.write(S);
    expect(strip(await logs.collect(1000))).toEqual(['stdout: two']);
  });

  it('finds a sentinel split across chunks and one that ends a line without a newline before it', async () => {
    const { stdout, stderr, logs } = collector();
    stdout.write('partial');
    stdout.write(LOG_SENTINEL.slice(0, 10));
    stdout.write(`${LOG_SENTINEL.slice(10)}\n`);
    stderr.write(S);
    expect(strip(await logs.collect(1000))).toEqual(['stdout: partial']);
  });

  it('keeps multi-byte characters split across chunks intact', async () => {
    const { stdout, stderr, logs } = collector();
    const bytes = Buffer.from('héllo wörld\n');
    stdout.write(bytes.subarray(0, 2));
    stdout.write(bytes.subarray(2));
    stdout.write(S);
    stderr.write(S);
    expect(strip(await logs.collect(1000))).toEqual(['stdout: héllo wörld']);
  });

  it('caps an activation at the limit, drops the rest and says so', async () => {
    const { stdout, stderr, logs } = collector(100);
    for (let i = 0; i < 50; i++) stdout.write(`line ${i} ${'x'.repeat(10)}\n`);
    stdout.write(S);
    stderr.write(S);
    const lines = strip(await logs.collect(1000));
    expect(lines.at(-1)).toBe('stderr: Logs were truncated because the total bytes size exceeds the limit of 100 bytes.');
    expect(lines.length).toBeLessThan(10);
    expect(lines[0]).toBe('stdout: line 0 xxxxxxxxxx');
  });

  it('drops a single line longer than the limit without holding it, and still sees the sentinel after it', async () => {
    const { stdout, stderr, logs } = collector(1000);
    for (let i = 0; i < 100; i++) stdout.write('y'.repeat(10_000));
    stdout.write(`\nafter\n${S}`);
    stderr.write(S);
    const lines = strip(await logs.collect(1000));
    expect(lines).toEqual(['stderr: Logs were truncated because the total bytes size exceeds the limit of 1000 bytes.']);
  });

  it('starts the next activation with a fresh budget', async () => {
    const { stdout, stderr, logs } = collector(20);
    stdout.write(`${'a'.repeat(30)}\n${S}`);
    stderr.write(S);
    expect(strip(await logs.collect(1000))).toHaveLength(1);
    stdout.write(`short\n${S}`);
    stderr.write(S);
    expect(strip(await logs.collect(1000))).toEqual(['stdout: short']);
  });

  it('gives up on a missing sentinel after a silence, and says logs may be missing', async () => {
    const { stdout, logs } = collector();
    stdout.write('no sentinel\n');
    const lines = strip(await logs.collect(50));
    expect(lines).toEqual(['stdout: no sentinel', 'stderr: There was an issue while collecting your logs. Data might be missing.']);
  });

  it('takes what was read at once for a proxy that prints no sentinels', async () => {
    const { stdout, logs } = collector();
    stdout.write('from a blackbox\n');
    await new Promise((r) => setImmediate(r));
    expect(strip(await logs.collect(1000, false))).toEqual(['stdout: from a blackbox']);
    stdout.write('next\n');
    await new Promise((r) => setImmediate(r));
    expect(strip(await logs.collect(1000, false))).toEqual(['stdout: next']);
  });

  it('collects what remains once the streams end, sentinels or not', async () => {
    const { stdout, stderr, logs } = collector();
    stdout.write(`before\n${S}after`);
    stderr.write('dying words\n');
    stdout.end();
    stderr.end();
    expect(strip(await logs.collectRemaining(1000))).toEqual(['stdout: before', 'stderr: dying words', 'stdout: after']);
  });

  describe('concurrent activations (lines tagged with their activation id)', () => {
    const A = 'a'.repeat(32);
    const B = 'b'.repeat(32);
    const end = (id: string) => `${id} ${S}`;

    it('gives each activation its own lines, in the order of each stream, whatever order they end in', async () => {
      const { stdout, stderr, logs } = collector();
      logs.beginActivation(A, 1024);
      logs.beginActivation(B, 1024);
      stdout.write(`${A} a1\n${B} b1\n${A} a2\n`);
      stderr.write(`${B} b-err\n`);
      stdout.write(end(B));
      stderr.write(end(B));
      expect(strip(await logs.collectActivation(B, 1000))).toEqual(['stdout: b1', 'stderr: b-err']);
      stdout.write(`${A} a3\n${end(A)}`);
      stderr.write(end(A));
      expect(strip(await logs.collectActivation(A, 1000))).toEqual(['stdout: a1', 'stdout: a2', 'stdout: a3']);
    });

    it('drops lines of no activation it was told about, and lines after an activation was collected', async () => {
      const { stdout, stderr, logs } = collector();
      logs.beginActivation(A, 1024);
      stdout.write(`untagged\n${B} stranger\n${A} mine\n${end(A)}`);
      stderr.write(end(A));
      expect(strip(await logs.collectActivation(A, 1000))).toEqual(['stdout: mine']);
      stdout.write(`${A} late\n`);
      logs.beginActivation(B, 1024);
      stdout.write(`${B} next\n${end(B)}`);
      stderr.write(end(B));
      expect(strip(await logs.collectActivation(B, 1000))).toEqual(['stdout: next']);
    });

    it('caps each activation at its limit, an over-long line included, without touching the others', async () => {
      const { stdout, stderr, logs } = collector();
      logs.beginActivation(A, 100);
      logs.beginActivation(B, 100);
      stdout.write(`${A} ${'x'.repeat(5000)}\n${A} after\n${B} short\n`);
      stdout.write(end(A) + end(B));
      stderr.write(end(A) + end(B));
      expect(strip(await logs.collectActivation(A, 1000))).toEqual(['stderr: Logs were truncated because the total bytes size exceeds the limit of 100 bytes.']);
      expect(strip(await logs.collectActivation(B, 1000))).toEqual(['stdout: short']);
    });

    it('gives a failed activation what it printed without waiting for an end marker that will not come', async () => {
      const { stdout, logs } = collector();
      logs.beginActivation(A, 1024);
      stdout.write(`${A} before the hang\n`);
      await new Promise((r) => setImmediate(r));
      expect(strip(await logs.collectActivationRemaining(A, 0))).toEqual(['stdout: before the hang']);
    });
  });
});
