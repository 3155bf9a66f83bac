/**
 * The Kindling action proxy: an HTTP server that speaks the OpenWhisk action protocol for
 * Node.js actions (`POST /init` once with the code, then `POST /run` per activation).
 *
 * It imports Node built-ins only and nothing else of this package, so that the compiled file
 * can be copied alone into a container image. Run it as an ES module:
 *
 *   node action-proxy.js --socket /run/kindling/proxy.sock   # unix socket (process runtime, Docker without network)
 *   node action-proxy.js                                      # TCP port 8080 (OpenWhisk's container contract)
 *
 * Options: `--socket <path>` (or env `__KINDLING_PROXY_SOCKET`), `--port <n>` (default 8080),
 * `--exit-on-stdin-end` (exit when the parent closes stdin: a runner that dies takes its
 * processes with it).
 *
 * Concurrency (OpenWhisk's `__OW_ALLOW_CONCURRENT=true` in the `/init` env): several `/run` at
 * once, each in its own async context, where `process.env` shows that activation's `__OW_*`
 * values and every line it prints on stdout or stderr starts with its activation id and a
 * space; `<id> <sentinel>` ends it on both streams.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { unlinkSync } from 'node:fs';
import { Script } from 'node:vm';

/** Printed on stdout and stderr after every run and every failed init (OpenWhisk's marker). */
const LOG_SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
/** The Node runtime of OpenWhisk accepts bodies up to 48 MB. */
const MAX_REQUEST_BYTES = 48 * 1024 * 1024;
const ENTRY_POINT = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/;

type ActionMain = (params: Record<string, unknown>) => unknown;

/** An init failure whose message says it all: reported without a stack trace. */
class InitFailure extends Error {}
type Reply = { status: number; body: unknown };
type StreamName = 'stdout' | 'stderr';

class ProxyState {
  /** `stopped` after a developer error, as OpenWhisk's runtime does. */
  status: 'ready' | 'starting' | 'stopped' = 'ready';
  main: ActionMain | undefined;
  /** Several runs at once, each with its own env and tagged output. */
  concurrent = false;
  running = 0;
}

/** One activation of a concurrent action: its `__OW_*` values and its unfinished output lines. */
interface Activation {
  id: string;
  env: Record<string, string>;
  partial: Record<StreamName, string>;
}

const state = new ProxyState();
const currentActivation = new AsyncLocalStorage<Activation>();
/** The streams' own writes, before {@link tagOutput} wraps them. */
const rawWrite = {
  stdout: process.stdout.write.bind(process.stdout),
  stderr: process.stderr.write.bind(process.stderr),
};

function writeSentinels(activation?: Activation): void {
  for (const name of ['stdout', 'stderr'] as const) {
    if (!activation) {
      rawWrite[name](`${LOG_SENTINEL}\n`);
      continue;
    }
    const rest = activation.partial[name];
    activation.partial[name] = '';
    rawWrite[name](`${rest ? `${activation.id} ${rest}\n` : ''}${activation.id} ${LOG_SENTINEL}\n`);
  }
}

/** Every line written inside an activation starts with its id; a line may be written in pieces. */
function tagOutput(name: StreamName): void {
  const stream = process[name];
  const write = rawWrite[name];
  stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void) => {
    const activation = currentActivation.getStore();
    if (!activation) return write(chunk, encoding as BufferEncoding, callback);
    const done = typeof encoding === 'function' ? encoding : callback;
    const text = activation.partial[name] + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const lines = text.split('\n');
    activation.partial[name] = lines.pop()!;
    return write(lines.map((line) => `${activation.id} ${line}\n`).join(''), done);
  }) as typeof stream.write;
}

/** `process.env` as each activation sees it: its own `__OW_*` values over the shared environment. */
function scopeEnvironment(): void {
  const shared = process.env;
  const own = (key: string | symbol) => {
    const env = currentActivation.getStore()?.env;
    return env && typeof key === 'string' && Object.hasOwn(env, key) ? env : undefined;
  };
  process.env = new Proxy(shared, {
    get: (target, key) => (own(key) ?? target)[key as string],
    has: (target, key) => own(key) !== undefined || key in target,
    ownKeys: (target) => [...new Set([...Reflect.ownKeys(target), ...Object.keys(currentActivation.getStore()?.env ?? {})])],
    getOwnPropertyDescriptor: (target, key) => {
      const env = own(key);
      return env ? { value: env[key as string], writable: true, enumerable: true, configurable: true } : Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
}

function allowConcurrency(): void {
  state.concurrent = true;
  scopeEnvironment();
  tagOutput('stdout');
  tagOutput('stderr');
}

function errorReply(status: number, error: unknown): Reply {
  return { status, body: { error } };
}

/** Environment values as OpenWhisk passes them: strings as they are, objects as JSON, null as ''. */
function envValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Evaluates the action source as a CommonJS-style script and finds `main` in it: a function
 * declared (or assigned to a global) under that name, else a member of `module.exports` or
 * `exports`. A dotted `main` (`handlers.run`) walks properties from there.
 */
function loadEntryPoint(code: string, main: string): ActionMain {
  if (!ENTRY_POINT.test(main)) {
    throw new InitFailure(`'${main}' is not a valid entry point name: use a function name such as 'main'.`);
  }
  const [head, ...rest] = main.split('.') as [string, ...string[]];
  const filename = join(process.cwd(), 'action.js');
  // The wrapper's first line is not the user's: offset it so that stack traces cite their lines.
  const source = `(function (exports, require, module, __filename, __dirname) {\n${code}\n;return typeof ${head} === 'undefined' ? undefined : ${head};\n})`;
  let script: Script;
  try {
    script = new Script(source, { filename, lineOffset: -1 });
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const where = error.stack?.split('\n')[0];
    throw new InitFailure(`SyntaxError: ${error.message}${where ? ` (${where})` : ''}`);
  }
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => unknown;
  const exportsObject: Record<string, unknown> = {};
  const module = { exports: exportsObject as unknown };
  let found = wrapper(exportsObject, createRequire(filename), module, filename, process.cwd());
  if (found === undefined) found = (module.exports as Record<string, unknown> | undefined)?.[head] ?? exportsObject[head];
  for (const key of rest) found = (found as Record<string, unknown> | undefined)?.[key];
  if (typeof found !== 'function') throw new InitFailure(`Action entrypoint '${main}' is not a function.`);
  return found as ActionMain;
}

function init(body: unknown): Reply {
  if (state.main !== undefined) return errorReply(403, 'Cannot initialize the action more than once.');
  if (state.status !== 'ready') return errorReply(403, `System not ready, status is ${state.status}.`);
  const message = (isObject(body) && isObject(body.value) ? body.value : {}) as Record<string, unknown>;
  const { code, main = 'main', binary, env } = message;
  if (typeof code !== 'string' || code.length === 0 || typeof main !== 'string' || main.length === 0) {
    return errorReply(403, 'Missing main/no code to execute.');
  }
  state.status = 'starting';
  if (isObject(env)) for (const [key, value] of Object.entries(env)) process.env[key] = envValue(value);
  if (process.env.__OW_ALLOW_CONCURRENT === 'true') allowConcurrency();
  // A concurrent action's init output belongs to the activation that caused it.
  const activation = state.concurrent ? newActivation(process.env.__OW_ACTIVATION_ID ?? '', {}) : undefined;
  const load = () => {
    try {
      if (binary === true) {
        throw new InitFailure('binary (zip) actions are not supported by the Kindling Node.js runtime yet; send the code as text.');
      }
      state.main = loadEntryPoint(code, main);
      state.status = 'ready';
      return { status: 200, body: { OK: true } };
    } catch (error) {
      state.status = 'stopped';
      const detail = error instanceof InitFailure ? error.message : error instanceof Error && error.stack ? error.stack : String(error);
      console.error(`Error during initialization: ${detail}`);
      writeSentinels(activation);
      return errorReply(502, `Initialization has failed due to: ${detail}`);
    }
  };
  return activation ? currentActivation.run(activation, load) : load();
}

function newActivation(id: string, env: Record<string, string>): Activation {
  return { id, env, partial: { stdout: '', stderr: '' } };
}

/** A rejection as OpenWhisk reports it: an Error becomes `{name, message, stack, ...own fields}`. */
function serializeRejection(reason: unknown): unknown {
  if (reason instanceof Error) {
    const out: Record<string, unknown> = { name: reason.name, message: reason.message };
    if (reason.stack) out.stack = reason.stack;
    for (const [key, value] of Object.entries(reason)) out[key] = value;
    return out;
  }
  return reason === undefined || reason === null || reason === false || reason === '' || reason === 0 ? {} : reason;
}

function describeThrown(error: unknown): string {
  if (error instanceof Error || typeof error !== 'object' || error === null) return String(error);
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

async function run(body: unknown): Promise<Reply> {
  const main = state.main;
  if (main === undefined) return errorReply(403, 'System not initialized.');
  if (state.status !== 'ready') return errorReply(403, `System not ready, status is ${state.status}.`);
  if (state.running > 0 && !state.concurrent) return errorReply(403, 'System not ready, status is running.');
  const message = (isObject(body) ? body : {}) as Record<string, unknown>;
  const params = message.value ?? {};
  if (!isObject(params)) {
    return errorReply(403, `Internal system error: the argument must be a dictionary but has type '${typeof params}'.`);
  }
  // Every string field besides `value` is context for this activation: __OW_ACTIVATION_ID, __OW_DEADLINE, …
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(message)) {
    if (key !== 'value' && typeof value === 'string') env[`__OW_${key.toUpperCase()}`] = value;
  }
  state.running++;
  try {
    if (!state.concurrent) {
      Object.assign(process.env, env);
      return await runMain(main, params);
    }
    const activation = newActivation(env.__OW_ACTIVATION_ID ?? '', env);
    return await currentActivation.run(activation, () => runMain(main, params, activation));
  } finally {
    state.running--;
  }
}

async function runMain(main: ActionMain, params: Record<string, unknown>, activation?: Activation): Promise<Reply> {
  let result: unknown;
  try {
    result = await invokeMain(main, params);
  } catch (error) {
    state.status = 'stopped';
    console.error(error);
    writeSentinels(activation);
    return errorReply(502, `An error has occurred: ${describeThrown(error)}`);
  }
  if (result === null || typeof result !== 'object') {
    console.error(`Result must be of type object but has type "${result === null ? 'null' : typeof result}":`, result);
    writeSentinels(activation);
    return errorReply(502, 'The action did not return a dictionary.');
  }
  writeSentinels(activation);
  return { status: 200, body: result };
}

/**
 * Calls `main`: a synchronous throw rejects (a developer error), while a returned promise that
 * rejects resolves to `{error}` (an application error), as OpenWhisk's Node runtime maps them.
 */
async function invokeMain(main: ActionMain, params: Record<string, unknown>): Promise<unknown> {
  const returned = main(params);
  let settled: unknown;
  try {
    settled = await returned;
  } catch (reason) {
    return { error: serializeRejection(reason) };
  }
  return settled === undefined ? {} : settled;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_REQUEST_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  let status = reply.status;
  let payload: string;
  try {
    payload = JSON.stringify(reply.body);
  } catch (error) {
    // A result with cycles or BigInts: the action's fault, reported as its result would be.
    state.status = 'stopped';
    status = 502;
    payload = JSON.stringify({ error: `An error has occurred: the result cannot be serialized as JSON: ${describeThrown(error)}` });
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = req.method === 'POST' ? req.url : undefined;
  const raw = await readBody(req);
  if (raw === null) return send(res, errorReply(413, `The request exceeds ${MAX_REQUEST_BYTES} bytes.`));
  let body: unknown;
  try {
    body = raw.length === 0 ? {} : JSON.parse(raw);
  } catch {
    return send(res, errorReply(500, 'Bad request.'));
  }
  if (route === '/init') return send(res, init(body));
  if (route === '/run') return send(res, await run(body));
  send(res, errorReply(500, 'Bad request.'));
}

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function listen(): void {
  // Opening stdout and stderr costs milliseconds: pay them now, not in a prewarmed container's first activation.
  process.stdout.write('');
  process.stderr.write('');
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, errorReply(500, `Proxy failure: ${describeThrown(error)}`)));
  });
  // The runner keeps one connection per container open for its whole life.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  const socketPath = option('--socket') ?? process.env.__KINDLING_PROXY_SOCKET;
  delete process.env.__KINDLING_PROXY_SOCKET;
  if (socketPath) {
    try {
      unlinkSync(socketPath);
    } catch {
      // No stale socket to remove.
    }
    server.listen(socketPath);
  } else {
    server.listen(Number(option('--port') ?? 8080), '0.0.0.0');
  }
  server.on('error', (error) => {
    console.error(`action proxy: cannot listen: ${error.message}`);
    process.exit(1);
  });
  if (process.argv.includes('--exit-on-stdin-end')) {
    process.stdin.on('end', () => process.exit(0));
    process.stdin.on('error', () => process.exit(0));
    process.stdin.resume();
  }
  process.on('SIGTERM', () => process.exit(0));
}

listen();
