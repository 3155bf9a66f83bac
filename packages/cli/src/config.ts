import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseWith, z } from '@kindling/core';
import type { ApiTarget } from './api-client.js';
import { usageError } from './exit-codes.js';

export const DEFAULT_APIHOST = 'http://127.0.0.1:3233';

/** What `kindling up` writes and the entity commands read. Unknown keys are kept for later versions. */
const configFileSchema = z.looseObject({
  apihost: z.string().min(1).optional(),
  auth: z.string().min(1).optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;

export type Env = Record<string, string | undefined>;

/** `$KINDLING_CONFIG`, else `~/.kindling/config.json`. */
export function configFilePath(env: Env): string {
  if (env.KINDLING_CONFIG) return env.KINDLING_CONFIG;
  return join(env.HOME || homedir(), '.kindling', 'config.json');
}

/** The config file's contents; an absent file is an empty config. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw usageError(`config file ${path} could not be read: ${(error as Error).message}`, path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw usageError(`config file ${path} is not valid JSON (${(error as Error).message}); fix it or delete it`, path);
  }
  try {
    return parseWith(configFileSchema, json);
  } catch (error) {
    throw usageError(`config file ${path}: ${(error as Error).message}`, path);
  }
}

/**
 * Writes the config readable by its owner only (it holds a key), through a temporary file
 * and a rename so that a reader never sees half of it.
 */
export async function writeConfigFile(path: string, config: ApiTarget): Promise<void> {
  const previous = await readConfigFile(path).catch(() => ({}));
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ ...previous, ...config }, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

export interface ConfigFlags {
  apihost?: string;
  auth?: string;
}

/**
 * Each setting from the first place that has it: the flag, then `KINDLING_APIHOST` /
 * `KINDLING_AUTH`, then OpenWhisk's `__OW_API_HOST` / `__OW_API_KEY`, then the config file.
 * The API host defaults to the local `kindling up`; the key has no default.
 */
export function pickClientConfig(flags: ConfigFlags, env: Env, file: ConfigFile, filePath: string): ApiTarget {
  const apihost = firstOf([
    [flags.apihost, '--apihost'],
    [env.KINDLING_APIHOST, 'KINDLING_APIHOST'],
    [env.__OW_API_HOST, '__OW_API_HOST'],
    [file.apihost, filePath],
  ]);
  const auth = firstOf([
    [flags.auth, '--auth'],
    [env.KINDLING_AUTH, 'KINDLING_AUTH'],
    [env.__OW_API_KEY, '__OW_API_KEY'],
    [file.auth, filePath],
  ]);
  if (!auth) {
    throw usageError(
      `no API key: pass --auth <uuid:key>, set KINDLING_AUTH, or run 'kindling up', which writes ${filePath}`,
      '--auth',
    );
  }
  return {
    apihost: apihost ? normalizeApihost(apihost.value, apihost.source) : DEFAULT_APIHOST,
    auth: checkAuth(auth.value, auth.source),
  };
}

export async function resolveClientConfig(flags: ConfigFlags, env: Env): Promise<ApiTarget> {
  const path = configFilePath(env);
  return pickClientConfig(flags, env, await readConfigFile(path), path);
}

/** `host:port` gets `http://`: Kindling's API is plain HTTP on loopback unless told otherwise. */
export function normalizeApihost(value: string, source: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw usageError(`the API host from ${source} is not a URL: '${value}'`, source);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`the API host from ${source} must be http:// or https://, not '${url.protocol}'`, source);
  }
  return withScheme.replace(/\/+$/, '');
}

/** A key is `uuid:key`, as OpenWhisk's; anything else cannot authenticate. */
export function checkAuth(value: string, source: string): string {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    throw usageError(`the API key from ${source} must be written <uuid>:<key>`, source);
  }
  return value;
}

function firstOf(candidates: Array<[string | undefined, string]>): { value: string; source: string } | undefined {
  for (const [value, source] of candidates) {
    if (value !== undefined && value !== '') return { value, source };
  }
  return undefined;
}
