import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@kindling/test-support';
import { defaultProxyPath } from '../process/process-container-factory.js';
import { LOG_SENTINEL } from '../runtime/messages.js';
import { ProxyClient } from '../runtime/proxy-client.js';

/** One proxy process on a unix socket, with its stdout and stderr captured. */
class ProxyUnderTest {
  readonly client: ProxyClient;
  stdout = '';
  stderr = '';
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    socketPath: string,
  ) {
    this.client = new ProxyClient({ socketPath });
    child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  static async start(): Promise<ProxyUnderTest> {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-proxy-test-'));
    const socketPath = join(dir, 'proxy.sock');
    const child = spawn(process.execPath, [defaultProxyPath(), '--socket', socketPath], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const proxy = new ProxyUnderTest(child, dir, socketPath);
    await proxy.client.waitUntilListening(10_000);
    return proxy;
  }

  async init(code: string, extra: Record<string, unknown> = {}) {
    const reply = await this.client.post('/init', { value: { name: 'test', main: 'main', code, binary: false, ...extra } });
    return { status: reply.status, body: JSON.parse(reply.body) as Record<string, unknown> };
  }

  async run(value: unknown, context: Record<string, unknown> = {}) {
    const reply = await this.client.post('/run', { value, ...context });
    return { status: reply.status, body: JSON.parse(reply.body) as unknown };
  }

  /** Waits until the proxy has printed `count` sentinels on both streams. */
  async sentinels(count: number): Promise<void> {
    const seen = (text: string) => text.split(LOG_SENTINEL).length - 1;
    for (let i = 0; i < 500 && (seen(this.stdout) < count || seen(this.stderr) < count); i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen(this.stdout)).toBe(count);
    expect(seen(this.stderr)).toBe(count);
  }

  stop(): void {
    this.client.close();
    this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('action proxy (OpenWhisk Node.js action protocol)', () => {
  let proxy: ProxyUnderTest | undefined;

  beforeAll(() => {
    if (!existsSync(defaultProxyPath())) throw new Error('Build the runner first: npx tsc -b packages/runner');
  });

  afterEach(() => {
    proxy?.stop();
    proxy = undefined;
  });

  const started = async () => (proxy = await ProxyUnderTest.start());

  it('finds main as a declared function and passes the parameters', async () => {
    const p = await started();
    expect(await p.init('function main(params) { return { greeting: "hello " + params.name }; }')).toEqual({ status: 200, body: { OK: true } });
    expect(await p.run({ name: 'World' })).toEqual({ status: 200, body: { greeting: 'hello World' } });
  });

  it.each([
    ['module.exports', 'module.exports = { handler: (p) => ({ via: "module.exports", n: p.n }) };'],
    ['module.exports.main', 'module.exports.handler = (p) => ({ via: "module.exports", n: p.n });'],
    ['exports', 'exports.handler = (p) => ({ via: "module.exports", n: p.n });'],
  ])('finds main on %s', async (_how, code) => {
    const p = await started();
    expect((await p.init(code, { main: 'handler' })).status).toBe(200);
    expect(await p.run({ n: 1 })).toEqual({ status: 200, body: { via: 'module.exports', n: 1 } });
  });

  it('lets the action require Node built-ins', async () => {
    const p = await started();
    await p.init('const os = require("node:os"); function main() { return { eol: os.EOL }; }');
    expect(await p.run({})).toEqual({ status: 200, body: { eol: '\n' } });
  });

  it('refuses a second init with 403', async () => {
    const p = await started();
    await p.init('function main() { return {}; }');
    expect(await p.init('function main() { return {}; }')).toEqual({ status: 403, body: { error: 'Cannot initialize the action more than once.' } });
  });

  it('refuses an init without code with 403', async () => {
    const p = await started();
    expect(await p.init('')).toEqual({ status: 403, body: { error: 'Missing main/no code to execute.' } });
  });

  it('refuses a run before init with 403', async () => {
    const p = await started();
    expect(await p.run({})).toEqual({ status: 403, body: { error: 'System not initialized.' } });
  });

  it('reports code that does not compile as a 502 init failure, with sentinels', async () => {
    const p = await started();
    const reply = await p.init('function main( {');
    expect(reply.status).toBe(502);
    expect(reply.body.error).toMatch(/^Initialization has failed due to: SyntaxError/);
    await p.sentinels(1);
  });

  it('reports a main that is not a function', async () => {
    const p = await started();
    expect(await p.init('const main = 42;')).toEqual({ status: 502, body: { error: "Initialization has failed due to: Action entrypoint 'main' is not a function." } });
  });

  it('refuses binary (zip) code with a clear init error', async () => {
    const p = await started();
    const reply = await p.init('UEsDBAoAAAAAAA==', { binary: true });
    expect(reply.status).toBe(502);
    expect(reply.body.error).toContain('binary (zip) actions are not supported');
  });

  it('sets init env and per-run __OW_* variables', async () => {
    const p = await started();
    await p.init(
      'function main() { return { greeting: process.env.GREETING, id: process.env.__OW_ACTIVATION_ID, ns: process.env.__OW_NAMESPACE, deadline: process.env.__OW_DEADLINE, name: process.env.__OW_ACTION_NAME }; }',
      { env: { GREETING: 'hi' } },
    );
    const context = { namespace: 'guest', action_name: '/guest/env', activation_id: 'a'.repeat(32), deadline: '1700000060000' };
    expect(await p.run({}, context)).toEqual({
      status: 200,
      body: { greeting: 'hi', id: 'a'.repeat(32), ns: 'guest', deadline: '1700000060000', name: '/guest/env' },
    });
    expect((await p.run({}, { ...context, activation_id: 'b'.repeat(32) })).body).toMatchObject({ id: 'b'.repeat(32) });
  });

  it('awaits an async main', async () => {
    const p = await started();
    await p.init('async function main(p) { await new Promise((r) => setTimeout(r, 5)); return { twice: p.n * 2 }; }');
    expect(await p.run({ n: 21 })).toEqual({ status: 200, body: { twice: 42 } });
  });

  it('turns an undefined result into {}', async () => {
    const p = await started();
    await p.init('function main() {}');
    expect(await p.run({})).toEqual({ status: 200, body: {} });
  });

  it('returns an array result as it is', async () => {
    const p = await started();
    await p.init('function main() { return [1, 2]; }');
    expect(await p.run({})).toEqual({ status: 200, body: [1, 2] });
  });

  it('maps a rejected promise to 200 {error} with the error serialized', async () => {
    const p = await started();
    await p.init('function main() { return Promise.reject(new Error("nope")); }');
    const reply = await p.run({});
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ error: { name: 'Error', message: 'nope' } });
  });

  it('maps a rejection with no reason to {error: {}}', async () => {
    const p = await started();
    await p.init('function main() { return Promise.reject(); }');
    expect(await p.run({})).toEqual({ status: 200, body: { error: {} } });
  });

  it('maps a thrown error to 502 "An error has occurred", prints it and the sentinels', async () => {
    const p = await started();
    await p.init('function main() { throw new Error("boom"); }');
    expect(await p.run({})).toEqual({ status: 502, body: { error: 'An error has occurred: Error: boom' } });
    await p.sentinels(1);
    expect(p.stderr).toContain('Error: boom');
  });

  it('maps a non-object result to 502 "The action did not return a dictionary."', async () => {
    const p = await started();
    await p.init('function main() { return "just a string"; }');
    expect(await p.run({})).toEqual({ status: 502, body: { error: 'The action did not return a dictionary.' } });
  });

  it('prints the sentinel on stdout and stderr after each run, after the action output', async () => {
    const p = await started();
    await p.init('function main(p) { console.log("out", p.i); console.error("err", p.i); return {}; }');
    await p.run({ i: 1 });
    await p.run({ i: 2 });
    await p.sentinels(2);
    expect(p.stdout).toBe(`out 1\n${LOG_SENTINEL}\nout 2\n${LOG_SENTINEL}\n`);
    expect(p.stderr).toBe(`err 1\n${LOG_SENTINEL}\nerr 2\n${LOG_SENTINEL}\n`);
  });

  it('refuses a second /run while one runs, unless the action allows concurrency', async () => {
    const p = await started();
    await p.init('function main() { console.log("started"); return new Promise(() => {}); }');
    void p.run({}).catch(() => undefined);
    await eventually(() => p.stdout.includes('started'), 'the first run to start');
    expect(await p.run({})).toEqual({ status: 403, body: { error: 'System not ready, status is running.' } });
  });

  it('with __OW_ALLOW_CONCURRENT, runs several /run at once, each with its own __OW_* env and id-tagged output', async () => {
    const p = await started();
    const code = `async function main(p) {
      process.stdout.write('part ');
      console.log('of', p.i);
      console.error('err', p.i);
      // Both runs are inside main before either returns.
      await new Promise((resolve) => { (globalThis.waiting ??= []).push(resolve); if (globalThis.waiting.length === 2) for (const go of globalThis.waiting) go(); });
      return { i: p.i, id: process.env.__OW_ACTIVATION_ID, deadline: process.env.__OW_DEADLINE, shared: process.env.SHARED };
    }`;
    expect((await p.init(code, { env: { __OW_ALLOW_CONCURRENT: 'true', __OW_ACTIVATION_ID: 'a'.repeat(32), SHARED: 'yes' } })).status).toBe(200);
    const ids = ['1'.repeat(32), '2'.repeat(32)];
    const replies = await Promise.all(ids.map((id, i) => p.run({ i }, { activation_id: id, deadline: String(i) })));
    expect(replies).toEqual([
      { status: 200, body: { i: 0, id: ids[0], deadline: '0', shared: 'yes' } },
      { status: 200, body: { i: 1, id: ids[1], deadline: '1', shared: 'yes' } },
    ]);
    await p.sentinels(2);
    for (const [i, id] of ids.entries()) {
      expect(p.stdout).toContain(`${id} part of ${i}\n`);
      expect(p.stderr).toContain(`${id} err ${i}\n`);
      expect(p.stdout).toContain(`${id} ${LOG_SENTINEL}\n`);
      expect(p.stderr).toContain(`${id} ${LOG_SENTINEL}\n`);
    }
    expect(p.stdout.split('\n').filter(Boolean).every((line) => ids.some((id) => line.startsWith(`${id} `)))).toBe(true);
  });

  it('answers malformed JSON with 500 "Bad request."', async () => {
    const p = await started();
    const malformed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request({ ...(p.client.endpoint as { socketPath: string }), path: '/init', method: 'POST' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end('{not json');
      }, reject);
    });
    expect(malformed).toEqual({ status: 500, body: '{"error":"Bad request."}' });
  });
});
