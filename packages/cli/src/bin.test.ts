/**
 * The built command, spawned as a user runs it: `node packages/cli/dist/bin.js` (built by
 * `npx tsc -b packages/cli`, which `npm test` runs first), against a fake API on a random
 * loopback port. The CLI against the real API is tested end to end with the platform (test/).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { closedPort, FakeApi } from './test-support/fake-api.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('../bin/kindling.js', import.meta.url));
const AUTH = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns asynchronously: the fake API answers from this same process. */
function spawnCli(file: string[], argv: string[], env: Record<string, string>): Promise<Run> {
  const [command, ...prefix] = file;
  return new Promise((resolve) => {
    const child = execFile(command!, [...prefix, ...argv], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

describe('kindling, spawned', () => {
  let api: FakeApi;
  let dir: string;
  let env: Record<string, string>;
  const kindling = (...argv: string[]) => spawnCli([process.execPath, BIN], argv, env);

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -b packages/cli)`);
    api = await FakeApi.start();
    dir = await mkdtemp(join(tmpdir(), 'kindling-cli-bin-'));
    env = { KINDLING_CONFIG: join(dir, 'config.json'), KINDLING_APIHOST: api.url, KINDLING_AUTH: AUTH };
    api.on('GET', 'namespaces/_/actions', { status: 200, body: [{ name: 'hello', version: '0.0.1', exec: { kind: 'nodejs:20' } }] });
    api.on('POST', 'namespaces/_/triggers/tick', { status: 202, body: { activationId: 'a'.repeat(32) } });
  });
  afterAll(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists actions as a table, exit 0', async () => {
    const run = await kindling('action', 'list');
    expect(run).toEqual({ code: 0, stdout: 'NAME   KIND       VERSION  UPDATED\nhello  nodejs:20  0.0.1\n', stderr: '' });
  });

  it('fires a trigger with --json output a script can parse', async () => {
    const run = await kindling('trigger', 'fire', 'tick', '-p', 'n', '1', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ activationId: 'a'.repeat(32) });
    expect(api.requests.at(-1)?.body).toEqual({ n: 1 });
  });

  it('exits 1 on an API error, with its message and status on stderr', async () => {
    const run = await kindling('rule', 'get', 'missing');
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'error: The requested resource does not exist. (HTTP 404, request fake-request-1)\n' });
  });

  it('exits 2 on a usage error', async () => {
    const run = await kindling('trigger', 'fire', 'tick', '--payload', 'not json');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--payload is not valid JSON/);
  });

  it('exits 3 when the API cannot be reached', async () => {
    const run = await spawnCli([process.execPath, BIN], ['action', 'list'], { ...env, KINDLING_APIHOST: `http://127.0.0.1:${await closedPort()}` });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/could not reach the API/);
  });

  it('runs through the bin npm links (bin/kindling.js), which is executable', async () => {
    const run = await spawnCli([LAUNCHER], ['--version'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
