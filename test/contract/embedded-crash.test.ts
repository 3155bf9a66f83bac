import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, decodeJson, encodeJson, Streams, Subjects } from '@kindling/core';
import { openEmbeddedBackend } from '@kindling/embedded';
import { Inbox } from './backend-under-test.js';

// A process publishing and writing on the embedded backend is killed with SIGKILL in the middle
// of its stream of writes (a real child process on the built packages: `npm test` builds
// first). Whatever it had acknowledged must be there after a restart, once: nothing acked lost,
// nothing duplicated, and a republish of an acked msgId is absorbed.
const here = dirname(fileURLToPath(import.meta.url));
const KILL_AFTER_ACKS = 3_000;

describe('embedded backend killed with SIGKILL mid-publish', () => {
  let dataDir: string;
  beforeEach(async () => (dataDir = await mkdtemp(join(tmpdir(), 'kindling-crash-'))));
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  const runAndKill = async (): Promise<{ published: Set<number>; written: Set<number> }> => {
    const built = ['core', 'embedded'].map((p) => join(here, '../../packages', p, 'dist/index.js'));
    const missing = built.filter((file) => !existsSync(file));
    if (missing.length > 0) throw new Error(`the crash test runs the built packages; run npm run build first (missing ${missing.join(', ')})`);
    const child = spawn(process.execPath, [join(here, 'embedded-crash-child.mjs'), dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const published = new Set<number>();
    const written = new Set<number>();
    let stderr = '';
    let partial = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        const lines = (partial + String(chunk)).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line.startsWith('p')) published.add(Number(line.slice(1)));
          if (line.startsWith('k')) written.add(Number(line.slice(1)));
        }
        if (published.size >= KILL_AFTER_ACKS && child.exitCode === null) child.kill('SIGKILL');
      });
      child.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`the child exited (${code}) before it was killed: ${stderr}`))));
    });
    return { published, written };
  };

  it('keeps every acknowledged publish and put, each once, and absorbs their republish', async () => {
    const { published, written } = await runAndKill();
    expect(published.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    // What the reopened backend warns of goes into the failure message of the wait below.
    const warnings: string[] = [];
    const log = createLogger({ level: 'warn', destination: { write: (line: string) => void warnings.push(line) } });
    const backend = await openEmbeddedBackend({ dataDir, log });
    try {
      const { messages } = await backend.streamInfo(Streams.events.name);
      const inbox = new Inbox();
      await backend.bus.consume({ durable: 'check', filter: Subjects.allEvents, maxInFlight: 256 }, inbox.handler);
      await inbox.waitFor(messages, 60_000).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}: ${inbox.received.length} of ${messages} delivered; the backend logged: ${warnings.join('') || 'nothing'}`);
      });
      const stored = inbox.received.map((m) => decodeJson<{ i: number }>(m.data).i);
      expect(new Set(stored).size).toBe(stored.length);
      expect([...published].filter((i) => !stored.includes(i))).toEqual([]);
      expect(inbox.received.every((m) => m.headers['Nats-Msg-Id'] === `crash-${decodeJson<{ i: number }>(m.data).i}`)).toBe(true);

      const some = [...published].slice(-50);
      const again = await Promise.all(some.map((i) => backend.bus.publish(Subjects.event('guest', 'crash'), encodeJson({ i }), { msgId: `crash-${i}` })));
      expect(again.every((ack) => ack.duplicate)).toBe(true);

      const bucket = await backend.store.bucket('kindling_cursors');
      const keys = new Set(await bucket.keys('feed.'));
      expect([...written].filter((i) => !keys.has(`feed.k${i}`))).toEqual([]);
      // Revisions go on from the last one written before the crash.
      expect(await bucket.put('feed.after', encodeJson({}))).toBeGreaterThan(keys.size);
    } finally {
      await backend.close();
    }
  });
});
