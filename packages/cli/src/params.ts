import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { usageError } from './exit-codes.js';

/** The flags that take two arguments, `-p KEY VALUE`, as `wsk` has them. */
const PARAM_FLAGS = new Set(['-p', '--param']);

/**
 * Commander options take one argument, `-p` takes two. Before commander parses, each
 * `-p KEY VALUE` is folded into one `--param` token holding both, JSON-encoded, so that a
 * value such as `-5` or `--x` is never mistaken for an option.
 */
export function foldParamPairs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (!PARAM_FLAGS.has(token)) {
      out.push(token);
      continue;
    }
    const key = argv[i + 1];
    const value = argv[i + 2];
    if (key === undefined || value === undefined) {
      throw usageError(`option '${token}' needs a key and a value: ${token} KEY VALUE`, '--param');
    }
    out.push('--param', JSON.stringify([key, value]));
    i += 2;
  }
  return out;
}

/** A parameter value as `wsk` reads it: JSON when it parses as JSON, else the string itself. */
export function parseParamValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Commander collector for `--param`: accumulates `[key, value]` pairs in order. */
export function collectParam(token: string, previous: Array<[string, unknown]> | undefined): Array<[string, unknown]> {
  let pair: unknown;
  try {
    pair = JSON.parse(token);
  } catch {
    pair = undefined;
  }
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
    throw new InvalidArgumentError('write parameters as -p KEY VALUE');
  }
  if (pair[0] === '') throw new InvalidArgumentError('a parameter key must not be empty');
  return [...(previous ?? []), [pair[0], parseParamValue(pair[1])]];
}

/** Parses a flag's JSON text that must be an object, with an error naming the flag. */
export function parseJsonObject(text: string, flag: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`${flag} is not valid JSON: ${(error as Error).message}`, flag);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw usageError(`${flag} must be a JSON object, such as '{"key": "value"}'`, flag);
  }
  return value as Record<string, unknown>;
}

export interface ParamFlags {
  param?: Array<[string, unknown]>;
  paramFile?: string;
}

/**
 * The parameters a command was given: those of `--param-file` (a JSON object), then each
 * `-p KEY VALUE` in order, a later one overriding an earlier one with the same key.
 */
export async function gatherParams(flags: ParamFlags): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = {};
  if (flags.paramFile !== undefined) {
    let text: string;
    try {
      text = await readFile(flags.paramFile, 'utf8');
    } catch (error) {
      throw usageError(`--param-file ${flags.paramFile} could not be read: ${(error as Error).message}`, '--param-file');
    }
    Object.assign(params, parseJsonObject(text, '--param-file'));
  }
  for (const [key, value] of flags.param ?? []) params[key] = value;
  return params;
}
