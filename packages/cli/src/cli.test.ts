/**
 * The entity commands against a fake API (a small HTTP server on a random loopback port that
 * records requests): the paths, queries and bodies the CLI sends, what it prints, and its exit
 * codes. The CLI against the real API, end to end, is tested with the platform (test/).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { runCli } from './cli.js';
import { ExitCode } from './exit-codes.js';
import { captureIo, closedPort, FakeApi } from './test-support/fake-api.js';

const AUTH = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret';
const ACTIVATION_ID = 'c7bb1339cb4f40e3a6ccead6c99f804e';

let api: FakeApi;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kindling-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  api = await FakeApi.start();
});
afterEach(async () => {
  await api.close();
});

/** Runs the CLI in this process against the fake API; the config file is a temp path. */
async function kindling(...argv: string[]) {
  const { io, out, err } = captureIo();
  const env = { KINDLING_CONFIG: join(dir, 'absent-config.json'), KINDLING_APIHOST: api.url, KINDLING_AUTH: AUTH };
  const code = await runCli(argv, { io, env, cwd: dir });
  return { code, out: out(), err: err() };
}

function activation(success: boolean, result: unknown) {
  return {
    namespace: 'guest',
    name: 'hello',
    activationId: ACTIVATION_ID,
    start: 1700000000000,
    end: 1700000000012,
    duration: 12,
    response: { status: success ? 'success' : 'application error', success, result },
    logs: ['2023-11-14T22:13:20.000Z stdout: hi'],
    annotations: [{ key: 'kind', value: 'nodejs:20' }],
  };
}

describe('action', () => {
  it('create sends the code, the kind from the extension, typed parameters and limits, with basic auth', async () => {
    const file = join(dir, 'hello.js');
    await writeFile(file, 'function main(p) { return { payload: `hi ${p.name}` } }');
    api.on('PUT', 'namespaces/_/actions/hello', { status: 200, body: { name: 'hello', version: '0.0.1' } });

    const run = await kindling('action', 'create', 'hello', file, '-p', 'name', 'World', '-p', 'n', '3', '--timeout', '5000', '--main', 'main');

    expect(run).toMatchObject({ code: ExitCode.ok, out: 'ok: created action hello\n', err: '' });
    const request = api.only();
    expect(request.query).toEqual({ overwrite: 'false' });
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from(AUTH).toString('base64')}`);
    expect(request.body).toEqual({
      exec: { kind: 'nodejs:20', code: 'function main(p) { return { payload: `hi ${p.name}` } }', main: 'main' },
      parameters: [{ key: 'name', value: 'World' }, { key: 'n', value: 3 }],
      limits: { timeout: 5000 },
    });
  });

  it('update --sequence makes a sequence of fully qualified actions, with overwrite', async () => {
    api.on('PUT', 'namespaces/_/actions/chain', { status: 200, body: { name: 'chain' } });
    const run = await kindling('action', 'update', 'chain', '--sequence', 'a, b,/other/c');
    expect(run.code).toBe(ExitCode.ok);
    expect(api.only().query).toEqual({ overwrite: 'true' });
    expect(api.only().body).toEqual({ exec: { kind: 'sequence', components: ['/_/a', '/_/b', '/other/c'] } });
  });

  it('create without code or sequence, or with a file of unknown kind, is a usage error and sends nothing', async () => {
    expect((await kindling('action', 'create', 'x')).code).toBe(ExitCode.usage);
    await writeFile(join(dir, 'x.py'), 'print(1)');
    const run = await kindling('action', 'create', 'x', join(dir, 'x.py'));
    expect(run.code).toBe(ExitCode.usage);
    expect(run.err).toMatch(/pass --kind/);
    expect(api.requests).toHaveLength(0);
  });

  it('list prints an aligned table, --json the API body', async () => {
    const list = [
      { name: 'hello', version: '0.0.2', updated: 1700000000000, exec: { binary: false }, annotations: [{ key: 'exec', value: 'nodejs:20' }] },
      { name: 'chain', version: '0.0.1', updated: 1700000060000, exec: { kind: 'sequence' } },
    ];
    api.on('GET', 'namespaces/_/actions', { status: 200, body: list });
    const table = await kindling('action', 'list', '--limit', '5');
    expect(table.out).toBe(
      [
        'NAME   KIND       VERSION  UPDATED',
        'hello  nodejs:20  0.0.2    2023-11-14T22:13:20Z',
        'chain  sequence   0.0.1    2023-11-14T22:14:20Z',
        '',
      ].join('\n'),
    );
    expect(api.requests[0]!.query).toEqual({ limit: '5' });
    const json = await kindling('--json', 'action', 'list');
    expect(JSON.parse(json.out)).toEqual(list);
  });

  it('invoke --blocking prints the activation id and the result', async () => {
    api.on('POST', 'namespaces/_/actions/hello', { status: 200, body: activation(true, { payload: 'hi World' }) });
    const run = await kindling('action', 'invoke', 'hello', '--blocking', '-p', 'name', 'World');
    expect(run.code).toBe(ExitCode.ok);
    expect(run.out).toBe(`ok: invoked hello, activation ${ACTIVATION_ID} (success, 12ms)\n{\n  "payload": "hi World"\n}\n`);
    expect(api.only().query).toEqual({ blocking: 'true' });
    expect(api.only().body).toEqual({ name: 'World' });
  });

  it('invoke --result prints only the result', async () => {
    api.on('POST', 'namespaces/_/actions/hello', { status: 200, body: activation(true, { payload: 'hi' }) });
    const run = await kindling('action', 'invoke', 'hello', '--result');
    expect(JSON.parse(run.out)).toEqual({ payload: 'hi' });
    expect(api.only().query).toEqual({ blocking: 'true' });
  });

  it('invoke --blocking of an activation that fails (502) prints it and exits 1', async () => {
    api.on('POST', 'namespaces/_/actions/hello', { status: 502, body: activation(false, { error: 'boom' }) });
    const run = await kindling('action', 'invoke', 'hello', '-b');
    expect(run.code).toBe(ExitCode.failed);
    expect(run.out).toContain('"error": "boom"');
    expect(run.err).toBe(`error: activation ${ACTIVATION_ID} of hello ended with status 'application error'\n`);
    const json = await kindling('action', 'invoke', 'hello', '-b', '--json');
    expect(json.code).toBe(ExitCode.failed);
    expect(JSON.parse(json.out).activationId).toBe(ACTIVATION_ID);
  });

  it('invoke without --blocking prints the activation id', async () => {
    api.on('POST', 'namespaces/_/actions/hello', { status: 202, body: { activationId: ACTIVATION_ID } });
    const run = await kindling('action', 'invoke', 'hello');
    expect(run).toMatchObject({ code: ExitCode.ok, out: `ok: invoked hello, activation ${ACTIVATION_ID}\n` });
    expect(api.only().query).toEqual({ blocking: 'false' });
  });

  it('get shows the record with the code as its size; --json shows the code', async () => {
    api.on('GET', 'namespaces/_/actions/hello', { status: 200, body: { name: 'hello', exec: { kind: 'nodejs:20', code: 'abc' } } });
    expect((await kindling('action', 'get', 'hello')).out).toBe('name       hello\nexec.kind  nodejs:20\nexec.code  (3 bytes; --json shows the code)\n');
    expect(JSON.parse((await kindling('action', 'get', 'hello', '--json')).out).exec.code).toBe('abc');
  });

  it('percent-encodes names, and reads /ns/name as another namespace', async () => {
    api.on('DELETE', 'namespaces/_/actions/my%20action', { status: 200, body: {} });
    api.on('DELETE', 'namespaces/other/actions/x', { status: 200, body: {} });
    expect((await kindling('action', 'delete', 'my action')).code).toBe(ExitCode.ok);
    expect((await kindling('action', 'delete', '/other/x')).code).toBe(ExitCode.ok);
  });
});

describe('trigger and feed', () => {
  it('create --feed creates the trigger with its feed in one call; -p goes to the feed', async () => {
    api.on('PUT', 'namespaces/_/triggers/tick', { status: 200, body: { name: 'tick' } });
    const run = await kindling('trigger', 'create', 'tick', '--feed', '/whisk.system/alarms/interval', '-p', 'minutes', '1');
    expect(run).toMatchObject({ code: ExitCode.ok, out: 'ok: created trigger tick with feed /whisk.system/alarms/interval\n' });
    expect(api.only().body).toEqual({ feed: { provider: 'alarms', kind: 'interval', params: { minutes: 1 } } });
  });

  it('create without a feed sets trigger parameters; a malformed --feed is a usage error', async () => {
    api.on('PUT', 'namespaces/_/triggers/t', { status: 200, body: { name: 't' } });
    await kindling('trigger', 'create', 't', '-p', 'type', 'manual');
    expect(api.only().body).toEqual({ parameters: [{ key: 'type', value: 'manual' }] });
    const bad = await kindling('trigger', 'create', 't', '--feed', 'alarms');
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.err).toMatch(/--feed must be written provider\/kind/);
  });

  it('list shows each trigger with its feed as --feed writes it', async () => {
    api.on('GET', 'namespaces/_/triggers', {
      status: 200,
      body: [
        { name: 'tick', version: '0.0.1', updated: 1700000000000, annotations: [{ key: 'feed', value: '/whisk.system/alarms/interval' }] },
        { name: 'plain', version: '0.0.2', updated: 1700000000000, annotations: [] },
      ],
    });
    expect((await kindling('trigger', 'list')).out).toBe(
      ['NAME   FEED             VERSION  UPDATED', 'tick   alarms/interval  0.0.1    2023-11-14T22:13:20Z', 'plain                   0.0.2    2023-11-14T22:13:20Z', ''].join('\n'),
    );
  });

  it('fire sends --payload with -p fields on top, and prints the activation id', async () => {
    api.on('POST', 'namespaces/_/triggers/t', { status: 202, body: { activationId: ACTIVATION_ID } });
    const run = await kindling('trigger', 'fire', 't', '--payload', '{"a":1,"b":{"c":true}}', '-p', 'a', '2');
    expect(run.out).toBe(`ok: fired trigger t, activation ${ACTIVATION_ID}\n`);
    expect(api.only().body).toEqual({ a: 2, b: { c: true } });
  });

  it('fire of a trigger with no active rule (204) says so and succeeds', async () => {
    api.on('POST', 'namespaces/_/triggers/t', { status: 204 });
    const run = await kindling('trigger', 'fire', 't');
    expect(run).toMatchObject({ code: ExitCode.ok, out: 'ok: fired trigger t; no active rule, so no activation\n' });
    expect((await kindling('trigger', 'fire', 't', '--json')).out).toBe('{}\n');
  });

  it('fire with a --payload that is not a JSON object is a usage error, nothing sent', async () => {
    const run = await kindling('trigger', 'fire', 't', '--payload', '{oops');
    expect(run.code).toBe(ExitCode.usage);
    expect(run.err).toMatch(/--payload is not valid JSON/);
    expect(api.requests).toHaveLength(0);
  });

  it('delete is one call (the API deletes the feed with its trigger) and says whether a feed went too', async () => {
    api.on('DELETE', 'namespaces/_/triggers/tick', { status: 200, body: { name: 'tick', feedId: 'f1', annotations: [{ key: 'feed', value: '/whisk.system/alarms/interval' }] } });
    api.on('DELETE', 'namespaces/_/triggers/plain', { status: 200, body: { name: 'plain', annotations: [] } });
    expect((await kindling('trigger', 'delete', 'tick')).out).toBe('ok: deleted trigger tick and its feed\n');
    expect(await kindling('trigger', 'delete', 'plain')).toMatchObject({ code: ExitCode.ok, out: 'ok: deleted trigger plain\n' });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /api/v1/namespaces/_/triggers/tick', 'DELETE /api/v1/namespaces/_/triggers/plain']);
  });

  it('feed list shows each feed with its status', async () => {
    api.on('GET', 'namespaces/_/feeds', {
      status: 200,
      body: [
        { trigger: 'tick', provider: 'alarms', kind: 'interval', status: { status: 'active', fires: 12, lastFireAt: 1700000000000 } },
        { trigger: 'door', provider: 'mqtt', kind: 'topic', status: { status: 'failing', fires: 0, reason: 'ECONNREFUSED' } },
      ],
    });
    expect((await kindling('feed', 'list')).out).toBe(
      [
        'TRIGGER  FEED             STATUS   FIRES  LAST FIRE             REASON',
        'tick     alarms/interval  active   12     2023-11-14T22:13:20Z',
        'door     mqtt/topic       failing  0                            ECONNREFUSED',
        '',
      ].join('\n'),
    );
  });

  it('feed pause, resume, update, delete and get use /feeds/<trigger>', async () => {
    api.on('POST', 'namespaces/_/feeds/tick', { status: 200, body: {} });
    api.on('PUT', 'namespaces/_/feeds/tick', { status: 200, body: {} });
    api.on('DELETE', 'namespaces/_/feeds/tick', { status: 200, body: {} });
    api.on('GET', 'namespaces/_/feeds/tick', {
      status: 200,
      body: { trigger: 'tick', provider: 'alarms', kind: 'interval', params: { minutes: 1 }, status: { status: 'paused', fires: 3 } },
    });
    expect((await kindling('feed', 'pause', 'tick')).out).toBe('ok: paused the feed of trigger tick\n');
    expect((await kindling('feed', 'resume', 'tick')).out).toBe('ok: resumed the feed of trigger tick\n');
    expect((await kindling('feed', 'update', 'tick', '-p', 'minutes', '2')).code).toBe(ExitCode.ok);
    expect((await kindling('feed', 'delete', 'tick')).code).toBe(ExitCode.ok);
    expect(api.requests.map((r) => [r.method, r.query, r.body])).toEqual([
      ['POST', {}, { action: 'pause' }],
      ['POST', {}, { action: 'unpause' }],
      ['PUT', { overwrite: 'true' }, { params: { minutes: 2 } }],
      ['DELETE', {}, undefined],
    ]);
    const get = await kindling('feed', 'get', 'tick');
    expect(get.out).toBe(
      ['trigger         tick', 'provider        alarms', 'kind            interval', 'params.minutes  1', 'status.status   paused', 'status.fires    3', ''].join('\n'),
    );
  });
});

describe('rule', () => {
  it('create qualifies trigger and action and passes the filter', async () => {
    api.on('PUT', 'namespaces/_/rules/r', { status: 200, body: { name: 'r' } });
    const run = await kindling('rule', 'create', 'r', 'tick', 'hello', '--filter', '{"data.temp":{"$gt":30}}');
    expect(run.code).toBe(ExitCode.ok);
    expect(api.only().body).toEqual({ trigger: '/_/tick', action: '/_/hello', filter: { 'data.temp': { $gt: 30 } } });
  });

  it('enable and disable post the status', async () => {
    api.on('POST', 'namespaces/_/rules/r', { status: 200 });
    expect((await kindling('rule', 'disable', 'r')).out).toBe('ok: disabled rule r\n');
    expect((await kindling('rule', 'enable', 'r')).out).toBe('ok: enabled rule r\n');
    expect(api.requests.map((r) => r.body)).toEqual([{ status: 'inactive' }, { status: 'active' }]);
  });

  it('list shows trigger and action paths', async () => {
    api.on('GET', 'namespaces/_/rules', {
      status: 200,
      body: [{ name: 'r', status: 'active', trigger: { path: 'guest', name: 'tick' }, action: { path: 'guest', name: 'hello' } }],
    });
    expect((await kindling('rule', 'list')).out).toBe('NAME  STATUS  TRIGGER     ACTION\nr     active  guest/tick  guest/hello\n');
  });
});

describe('activation', () => {
  it('list passes name, limit and since (a date, sent as epoch ms) and prints a table', async () => {
    const brief = { activationId: ACTIVATION_ID, name: 'hello', start: 1700000000000, duration: 12, statusCode: 1, annotations: [{ key: 'kind', value: 'nodejs:20' }] };
    api.on('GET', 'namespaces/_/activations', { status: 200, body: [brief, { activationId: 'f'.repeat(32), name: 'tick', start: 1700000000000, statusCode: 0 }] });
    const run = await kindling('activation', 'list', 'hello', '--limit', '2', '--since', '2023-11-14T22:00:00Z');
    expect(api.only().query).toEqual({ name: 'hello', limit: '2', since: String(Date.parse('2023-11-14T22:00:00Z')) });
    expect(run.out).toBe(
      [
        'START                 ACTIVATION ID                     KIND       DURATION  STATUS             NAME',
        `2023-11-14T22:13:20Z  ${ACTIVATION_ID}  nodejs:20  12ms      application error  hello`,
        `2023-11-14T22:13:20Z  ${'f'.repeat(32)}                       success            tick`,
        '',
      ].join('\n'),
    );
  });

  it('list --count asks the API to count what the filters select (name, status) and prints the number', async () => {
    api.on('GET', 'namespaces/_/activations', { status: 200, body: { activations: 1234 } });
    const run = await kindling('activation', 'list', 'hello', '--status', 'application-error', '--count');
    expect(api.only().query).toEqual({ name: 'hello', status: 'application-error', count: 'true' });
    expect(run.out).toBe('1234\n');
  });

  it('logs prints the lines, result the result', async () => {
    api.on('GET', `namespaces/_/activations/${ACTIVATION_ID}/logs`, { status: 200, body: { logs: ['line one', 'line two'] } });
    api.on('GET', `namespaces/_/activations/${ACTIVATION_ID}/result`, { status: 200, body: { status: 'success', success: true, result: { n: 1 } } });
    expect((await kindling('activation', 'logs', ACTIVATION_ID)).out).toBe('line one\nline two\n');
    expect(JSON.parse((await kindling('activation', 'result', ACTIVATION_ID)).out)).toEqual({ n: 1 });
    expect(JSON.parse((await kindling('activation', 'result', ACTIVATION_ID, '--json')).out)).toMatchObject({ status: 'success' });
  });

  it('poll prints each new activation once, oldest first, until asked to stop', async () => {
    let stop: (signal: string) => void = () => undefined;
    const requested = new Promise<string>((resolve) => (stop = resolve));
    const first = { activationId: 'a'.repeat(32), name: 'hello', start: 1700000000000, duration: 5, statusCode: 0 };
    const second = { activationId: 'b'.repeat(32), name: 'hello', start: 1700000001000, duration: 7, statusCode: 1 };
    let polls = 0;
    api.on('GET', 'namespaces/_/activations', () => {
      polls += 1;
      if (polls === 2) stop('SIGINT');
      return { status: 200, body: polls === 1 ? [first] : [second, first] };
    });
    const { io, out } = captureIo();
    const env = { KINDLING_CONFIG: join(dir, 'none.json'), KINDLING_APIHOST: api.url, KINDLING_AUTH: AUTH };
    const code = await runCli(['activation', 'poll', 'hello', '--since', '1700000000000', '--interval', '0.01'], {
      io,
      env,
      watchShutdown: () => ({ requested, dispose: () => undefined }),
    });
    expect(code).toBe(ExitCode.ok);
    expect(out()).toBe(`2023-11-14T22:13:20Z  ${'a'.repeat(32)}  hello  success  5ms\n2023-11-14T22:13:21Z  ${'b'.repeat(32)}  hello  application error  7ms\n`);
    expect(api.requests[0]!.query).toEqual({ name: 'hello', since: '1700000000000', limit: '200' });
  });

  it('a --since that is not a time is a usage error', async () => {
    expect((await kindling('activation', 'list', '--since', 'yesterday-ish')).code).toBe(ExitCode.usage);
  });
});

describe('provider list', () => {
  it('prints each kind with its parameters from the JSON schema, required first', async () => {
    api.on('GET', 'providers', {
      status: 200,
      body: [
        {
          name: 'alarms',
          kinds: [
            {
              name: 'interval',
              pattern: 'timer',
              description: 'fires every few minutes',
              schema: { type: 'object', properties: { minutes: {}, startDate: {} }, required: ['minutes'] },
            },
          ],
        },
      ],
    });
    expect((await kindling('provider', 'list')).out).toBe(
      'PROVIDER  KIND      PATTERN  PARAMETERS           DESCRIPTION\nalarms    interval  timer    minutes [startDate]  fires every few minutes\n',
    );
  });

  it('says clearly when the API does not list providers', async () => {
    const run = await kindling('provider', 'list');
    expect(run.code).toBe(ExitCode.failed);
    expect(run.err).toMatch(/this API does not list providers \(GET \/api\/v1\/providers answered 404\)/);
  });
});

describe('exit codes and errors', () => {
  it('an API error exits 1 and prints its message and HTTP status on stderr', async () => {
    const run = await kindling('action', 'get', 'missing');
    expect(run).toEqual({ code: ExitCode.failed, out: '', err: 'error: The requested resource does not exist. (HTTP 404, request fake-request-1)\n' });
    api.on('PUT', 'namespaces/_/actions/dup', { status: 409, body: { error: 'resource already exists', code: 'r2' } });
    await writeFile(join(dir, 'dup.js'), 'function main() {}');
    expect((await kindling('action', 'create', 'dup', join(dir, 'dup.js'))).err).toBe('error: resource already exists (HTTP 409, request r2)\n');
  });

  it('an API that cannot be reached exits 3', async () => {
    const { io, err } = captureIo();
    const env = { KINDLING_CONFIG: join(dir, 'none.json'), KINDLING_AUTH: AUTH };
    const code = await runCli(['--apihost', `http://127.0.0.1:${await closedPort()}`, 'action', 'list'], { io, env });
    expect(code).toBe(ExitCode.unreachable);
    expect(err()).toMatch(/could not reach the API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('usage errors exit 2: unknown command, unknown option, missing argument, bad number', async () => {
    for (const argv of [['nope'], ['action', 'list', '--bogus'], ['rule', 'create', 'r', 'only-trigger'], ['action', 'list', '--limit', 'many'], ['action']]) {
      const run = await kindling(...argv);
      expect({ argv, code: run.code }).toEqual({ argv, code: ExitCode.usage });
      expect(run.err).not.toBe('');
    }
    expect(api.requests).toHaveLength(0);
  });

  it('--help and --version exit 0', async () => {
    expect((await kindling('--help')).code).toBe(ExitCode.ok);
    const version = await kindling('--version');
    expect(version).toMatchObject({ code: ExitCode.ok, out: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });

  it('without any key configured, exits 2 and says how to get one', async () => {
    const { io, err } = captureIo();
    const code = await runCli(['action', 'list'], { io, env: { KINDLING_CONFIG: join(dir, 'none.json') } });
    expect(code).toBe(ExitCode.usage);
    expect(err()).toMatch(/no API key.*kindling up/);
  });

  it('uses the host and key of the config file when no flag or variable gives them', async () => {
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ apihost: api.url, auth: 'file-uuid:file-key' }));
    api.on('GET', 'namespaces/_/triggers', { status: 200, body: [] });
    const { io, out } = captureIo();
    expect(await runCli(['trigger', 'list'], { io, env: { KINDLING_CONFIG: config } })).toBe(ExitCode.ok);
    expect(out()).toBe('NAME  FEED  VERSION  UPDATED\n');
    expect(api.only().headers.authorization).toBe(`Basic ${Buffer.from('file-uuid:file-key').toString('base64')}`);
  });
});
