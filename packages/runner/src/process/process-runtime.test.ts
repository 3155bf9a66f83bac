import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionRecord } from '@kindling/core';
import { newActivationId, nodeAction } from '../test-support/actions.js';
import type { RunOutcome } from '../runtime/action-runtime.js';
import { RuntimeStoppedError } from '../runtime/container.js';
import { defaultProxyPath } from './process-container-factory.js';
import { ProcessRuntime, type ProcessRuntimeOptions } from './process-runtime.js';
import { eventually } from '@kindling/test-support';

const runtimes: ProcessRuntime[] = [];

async function startRuntime(options: ProcessRuntimeOptions = {}): Promise<ProcessRuntime> {
  const runtime = new ProcessRuntime({ prewarm: [], ...options });
  runtimes.push(runtime);
  await runtime.start();
  return runtime;
}

function run(runtime: ProcessRuntime, action: ActionRecord, params: Record<string, unknown> = {}): Promise<RunOutcome> {
  return runtime.run({ action, params, activationId: newActivationId(), namespace: 'guest' });
}

/** Running or stopped; a zombie (exited, not yet reaped by whoever adopted it) counts as gone. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}


const PID_ACTION = 'function main() { return { pid: process.pid }; }';

describe('ProcessRuntime', () => {
  beforeAll(() => {
    if (!existsSync(defaultProxyPath())) throw new Error('Build the runner first: npx tsc -b packages/runner');
  });

  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  describe('results and statuses, as OpenWhisk maps them', () => {
    it('runs a sync action: success with its result, logs and a cold-start initTime', async () => {
      const runtime = await startRuntime();
      const outcome = await run(runtime, nodeAction('hello', 'function main(p) { console.log("hello", p.name); return { greeting: "Hello " + p.name }; }'), { name: 'World' });
      expect(outcome.response).toEqual({ status: 'success', statusCode: 0, success: true, result: { greeting: 'Hello World' }, size: 26 });
      expect(outcome.logs).toHaveLength(1);
      expect(outcome.logs[0]).toMatch(/^\S+Z stdout: hello World$/);
      expect(outcome.initTime).toBeGreaterThanOrEqual(0);
      expect(outcome.timedOut).toBe(false);
    });

    it('runs an async action', async () => {
      const runtime = await startRuntime();
      const outcome = await run(runtime, nodeAction('async', 'async function main(p) { await new Promise((r) => setTimeout(r, 10)); return { sum: p.a + p.b }; }'), { a: 1, b: 2 });
      expect(outcome.response).toMatchObject({ status: 'success', result: { sum: 3 } });
    });

    it('reports a returned {error} and a rejected promise as application errors, and keeps the process', async () => {
      const runtime = await startRuntime();
      const action = nodeAction('rejects', 'function main(p) { return p.reject ? Promise.reject({ reason: "no" }) : { error: "returned", pid: process.pid }; }');
      const returned = await run(runtime, action);
      expect(returned.response).toMatchObject({ status: 'application error', statusCode: 1, success: false, result: { error: 'returned' } });
      const rejected = await run(runtime, action, { reject: true });
      expect(rejected.response).toMatchObject({ status: 'application error', statusCode: 1, result: { error: { reason: 'no' } } });
      expect(rejected.containerId).toBe(returned.containerId);
    });

    it('reports a thrown error as a developer error, keeps its log, and discards the process', async () => {
      const runtime = await startRuntime();
      const action = nodeAction('throws', 'function main() { console.log("about to fail"); throw new Error("boom"); }');
      const outcome = await run(runtime, action);
      expect(outcome.response).toMatchObject({ status: 'action developer error', statusCode: 2, result: { error: 'An error has occurred: Error: boom' } });
      expect(outcome.logs.join('\n')).toContain('stdout: about to fail');
      expect(outcome.logs.join('\n')).toContain('stderr: Error: boom');
      expect(outcome.logs.at(-1)).toMatch(/stderr: The action did not initialize or run as expected\. Log data might be missing\.$/);
      const pid = Number(outcome.containerId!.split(':')[1]);
      expect(isAlive(pid)).toBe(false);
      expect(runtime.stats().containers).toHaveLength(0);
    });

    it('reports a non-object result as a developer error', async () => {
      const runtime = await startRuntime();
      const outcome = await run(runtime, nodeAction('string', 'function main() { return 42; }'));
      expect(outcome.response).toMatchObject({ statusCode: 2, result: { error: 'The action did not return a dictionary.' } });
    });

    it('reports code that does not compile as a developer error from /init', async () => {
      const runtime = await startRuntime();
      const outcome = await run(runtime, nodeAction('broken', 'function main( {'));
      expect(outcome.response.statusCode).toBe(2);
      expect((outcome.response.result as { error: string }).error).toMatch(/^Initialization has failed due to: SyntaxError/);
      expect(outcome.initTime).toBeGreaterThanOrEqual(0);
    });

    it('reports a process that exits mid-run as a developer error', async () => {
      const runtime = await startRuntime();
      const outcome = await run(runtime, nodeAction('exits', 'function main() { process.exit(3); }'));
      expect(outcome.response).toMatchObject({ statusCode: 2, result: { error: 'The action did not produce a valid response and exited unexpectedly.' } });
    });

    it('reports an exhausted heap as such', async () => {
      const runtime = await startRuntime();
      const code = 'function main() { const hoard = []; for (;;) hoard.push(new Array(100000).fill(Math.random())); }';
      const outcome = await run(runtime, nodeAction('hog', code, { limits: { memory: 128, timeout: 60_000 } }));
      expect(outcome.response).toMatchObject({ statusCode: 2, result: { error: 'The action exhausted its memory and was aborted.' } });
    });

    it('caps the result at 1 MB: an application error with OpenWhisk message', async () => {
      const runtime = await startRuntime();
      const outcome = await run(runtime, nodeAction('big', 'function main() { return { blob: "a".repeat(1100000) }; }'));
      expect(outcome.response).toMatchObject({ status: 'application error', statusCode: 1 });
      const error = (outcome.response.result as { error: string }).error;
      expect(error).toMatch(/^The action produced a response that exceeded the allowed length: 1100011 > 1048576 bytes\. The truncated response was: \{"blob":"aaa/);
      expect(error.length).toBeLessThan(70 * 1024);
    });

    it('gives the action its activation context in __OW_* variables and none of the runner environment', async () => {
      process.env.KINDLING_RUNNER_TEST_SECRET = 'do-not-leak';
      const runtime = await startRuntime({ apiHost: 'http://127.0.0.1:3233' });
      const action = nodeAction(
        'context',
        'function main() { const e = process.env; return { id: e.__OW_ACTIVATION_ID, ns: e.__OW_NAMESPACE, name: e.__OW_ACTION_NAME, version: e.__OW_ACTION_VERSION, deadline: Number(e.__OW_DEADLINE), apiHost: e.__OW_API_HOST, secret: e.KINDLING_RUNNER_TEST_SECRET ?? null }; }',
      );
      const activationId = newActivationId();
      const before = Date.now();
      const outcome = await runtime.run({ action, params: {}, activationId, namespace: 'guest' });
      delete process.env.KINDLING_RUNNER_TEST_SECRET;
      const result = outcome.response.result as Record<string, unknown>;
      expect(result).toMatchObject({ id: activationId, ns: 'guest', name: '/guest/context', version: '0.0.1', apiHost: 'http://127.0.0.1:3233', secret: null });
      expect(result.deadline).toBeGreaterThanOrEqual(before + action.limits.timeout);
    });
  });

  describe('limits', () => {
    it('kills an action that runs past its timeout, reports it, and keeps serving other actions meanwhile', async () => {
      const runtime = await startRuntime();
      const looping = run(runtime, nodeAction('forever', 'function main() { for (;;) {} }', { limits: { timeout: 3000 } }));
      let loopingSettled = false;
      void looping.then(() => (loopingSettled = true));
      const other = await run(runtime, nodeAction('quick', 'function main() { return { ok: true }; }'));
      expect(other.response).toMatchObject({ statusCode: 0, result: { ok: true } });
      expect(loopingSettled).toBe(false);
      const outcome = await looping;
      expect(outcome.response).toMatchObject({ statusCode: 2, result: { error: 'The action exceeded its time limits of 3000 milliseconds.' } });
      expect(outcome.timedOut).toBe(true);
      expect(isAlive(Number(outcome.containerId!.split(':')[1]))).toBe(false);
    });

    it('bounds an /init that never ends by the timeout too', async () => {
      const runtime = await startRuntime();
      const outcome = await run(runtime, nodeAction('slow-init', 'for (;;) {}\nfunction main() {}', { limits: { timeout: 500 } }));
      expect(outcome.response).toMatchObject({ statusCode: 2, result: { error: 'The action exceeded its time limits of 500 milliseconds during initialization.' } });
      expect(outcome.timedOut).toBe(true);
    });

    it('caps 20 MB of logs at the action limit without stalling other actions', async () => {
      const runtime = await startRuntime();
      const flood = 'function main() { const line = "x".repeat(1023); for (let i = 0; i < 20480; i++) console.log(line); return { printed: 20480 }; }';
      const heapBefore = process.memoryUsage().heapUsed;
      const flooding = run(runtime, nodeAction('flood', flood, { limits: { logs: 1 } }));
      const other = await run(runtime, nodeAction('quiet', 'function main() { console.log("still here"); return { ok: true }; }'));
      expect(other.response.result).toEqual({ ok: true });
      expect(other.logs).toHaveLength(1);
      const outcome = await flooding;
      expect(outcome.response).toMatchObject({ statusCode: 0, result: { printed: 20480 } });
      const bytes = outcome.logs.reduce((total, line) => total + line.length, 0);
      expect(bytes).toBeLessThan(1.2 * 1024 * 1024);
      expect(outcome.logs.at(-1)).toMatch(/stderr: Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes\.$/);
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
      // The process printed past its cap and is still a good warm process.
      const again = await run(runtime, nodeAction('quiet', 'function main() { return { ok: true }; }'));
      expect(again.response.statusCode).toBe(0);
    });

    it('caps a 20 MB log line without a newline', async () => {
      const runtime = await startRuntime();
      const code = 'function main() { const chunk = "y".repeat(65536); for (let i = 0; i < 320; i++) process.stdout.write(chunk); console.log(); console.log("tail"); return {}; }';
      const outcome = await run(runtime, nodeAction('one-line', code, { limits: { logs: 1 } }));
      expect(outcome.response.statusCode).toBe(0);
      expect(outcome.logs).toHaveLength(1);
      expect(outcome.logs[0]).toMatch(/Logs were truncated/);
    });
  });

  describe('containers: warm reuse, prewarm, idle, capacity', () => {
    it('reuses the warm process for the same revision and starts a new one after an update', async () => {
      const runtime = await startRuntime();
      const v1 = nodeAction('warm', PID_ACTION);
      const first = await run(runtime, v1);
      const second = await run(runtime, v1);
      expect((second.response.result as { pid: number }).pid).toBe((first.response.result as { pid: number }).pid);
      expect(first.initTime).toBeDefined();
      expect(second.initTime).toBeUndefined();
      const v2 = { ...v1, version: '0.0.2', updated: v1.updated + 1 };
      const third = await run(runtime, v2);
      expect((third.response.result as { pid: number }).pid).not.toBe((first.response.result as { pid: number }).pid);
      expect(third.initTime).toBeDefined();
    });

    it('serves a first run from a prewarmed process, then replaces the prewarm', async () => {
      const runtime = await startRuntime({ prewarm: [{ kind: 'nodejs:default', memoryMb: 256, count: 1 }] });
      const prewarmed = runtime.stats().containers;
      expect(prewarmed).toMatchObject([{ state: 'prewarm', revision: null, memoryMb: 256 }]);
      const outcome = await run(runtime, nodeAction('first', PID_ACTION));
      expect(`process:${(outcome.response.result as { pid: number }).pid}`).toBe(prewarmed[0]!.id);
      expect(outcome.initTime).toBeDefined();
      await eventually(() => runtime.stats().containers.some((c) => c.state === 'prewarm' && c.id !== prewarmed[0]!.id), 'a new prewarmed container');
    });

    it('does not use a prewarm of another memory size', async () => {
      const runtime = await startRuntime({ prewarm: [{ kind: 'nodejs:20', memoryMb: 128, count: 1 }] });
      const prewarmedId = runtime.stats().containers[0]!.id;
      const outcome = await run(runtime, nodeAction('other-size', PID_ACTION));
      expect(`process:${(outcome.response.result as { pid: number }).pid}`).not.toBe(prewarmedId);
    });

    it('pauses an idle process, resumes it for the next run, and removes it after the idle timeout', async () => {
      const runtime = await startRuntime({ pauseGraceMs: 20, idleTimeoutMs: 1500 });
      const action = nodeAction('pausing', PID_ACTION);
      const first = await run(runtime, action);
      await eventually(() => runtime.stats().containers[0]?.state === 'paused', 'the container paused');
      const second = await run(runtime, action);
      expect(second.response.result).toEqual(first.response.result);
      await eventually(() => runtime.stats().containers.length === 0, 'no container left');
      await eventually(() => !isAlive((first.response.result as { pid: number }).pid), 'the first process gone');
    });

    it('queues runs beyond capacity and evicts the least recently used idle process', async () => {
      const runtime = await startRuntime({ capacityMemoryMb: 256 });
      const a = nodeAction('a', 'async function main() { await new Promise((r) => setTimeout(r, 200)); return { pid: process.pid }; }');
      const b = nodeAction('b', PID_ACTION);
      const [ranA, ranB] = await Promise.all([run(runtime, a), run(runtime, b)]);
      expect(ranA.response.statusCode).toBe(0);
      expect(ranB.response.statusCode).toBe(0);
      const pidA = (ranA.response.result as { pid: number }).pid;
      expect((ranB.response.result as { pid: number }).pid).not.toBe(pidA);
      await eventually(() => !isAlive(pidA), 'process A gone');
      expect(runtime.stats()).toMatchObject({ memoryUsedMb: 256, queued: 0, containers: [{ state: 'idle', revision: expect.stringContaining('guest/b@') }] });
    });

    it('works in a work dir too deep for a unix socket path, and cleans it up', async () => {
      const base = join(tmpdir(), `kindling-deep-${process.pid}`);
      const deep = join(base, 'd'.repeat(60), 'e'.repeat(60));
      mkdirSync(deep, { recursive: true });
      try {
        const runtime = await startRuntime({ workDir: deep });
        const outcome = await run(runtime, nodeAction('deep', 'function main() { return { cwd: process.cwd() }; }'));
        expect((outcome.response.result as { cwd: string }).cwd.startsWith(deep)).toBe(true);
        await runtime.stop();
        expect(readdirSync(deep)).toEqual([]);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    });

    it('kills the paused processes of a runner that died, and removes their directories, on start', async () => {
      const workDir = mkdtempSync(join(tmpdir(), 'kindling-orphans-'));
      const distIndex = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
      // A runner in another process: runs an action, lets its process pause, reports the pid, then is killed.
      const script = `
        import { ProcessRuntime } from ${JSON.stringify(distIndex)};
        const runtime = new ProcessRuntime({ workDir: ${JSON.stringify(workDir)}, prewarm: [], pauseGraceMs: 10 });
        await runtime.start();
        const action = { namespace: 'guest', name: 'orphan', version: '0.0.1', publish: false, annotations: [], updated: 1, parameters: [],
          exec: { kind: 'nodejs:20', code: ${JSON.stringify(PID_ACTION)}, binary: false }, limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 } };
        const outcome = await runtime.run({ action, params: {}, activationId: 'a'.repeat(32), namespace: 'guest' });
        while (runtime.stats().containers[0]?.state !== 'paused') await new Promise((r) => setTimeout(r, 10));
        console.log(JSON.stringify(outcome.response.result));
        setInterval(() => {}, 1000);`;
      const runner = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const orphanPid = await new Promise<number>((resolve, reject) => {
          runner.stdout!.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { pid: number }).pid));
          runner.once('exit', (code) => reject(new Error(`the runner exited early with ${code}`)));
        });
        runner.kill('SIGKILL');
        await new Promise((r) => runner.once('exit', r));
        expect(isAlive(orphanPid)).toBe(true);
        await startRuntime({ workDir });
        await eventually(() => !isAlive(orphanPid), 'the orphan gone');
        expect(readdirSync(workDir)).toEqual([]);
      } finally {
        runner.kill('SIGKILL');
        rmSync(workDir, { recursive: true, force: true });
      }
    });

    it('rejects runs interrupted by stop with RuntimeStoppedError rather than recording a failure', async () => {
      const runtime = await startRuntime();
      const running = run(runtime, nodeAction('sleeper', 'function main() { return new Promise(() => {}); }'));
      await eventually(() => runtime.stats().containers.some((c) => c.state === 'busy'), 'a busy container');
      await runtime.stop();
      await expect(running).rejects.toBeInstanceOf(RuntimeStoppedError);
      await expect(run(runtime, nodeAction('late', PID_ACTION))).rejects.toBeInstanceOf(RuntimeStoppedError);
    });

    it('refuses a blackbox action with a developer error that names the Docker runtime', async () => {
      const runtime = await startRuntime();
      const action: ActionRecord = { ...nodeAction('box', ''), exec: { kind: 'blackbox', image: 'me/img', binary: false } };
      const outcome = await run(runtime, action);
      expect(outcome.response).toMatchObject({ statusCode: 2, result: { error: expect.stringContaining('Docker runtime') } });
    });
  });
});
