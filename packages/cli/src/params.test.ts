import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UsageError } from './exit-codes.js';
import { collectParam, foldParamPairs, gatherParams, parseJsonObject, parseParamValue } from './params.js';

describe('parseParamValue (as wsk reads -p values)', () => {
  it('reads JSON when the text parses as JSON', () => {
    expect(parseParamValue('5')).toBe(5);
    expect(parseParamValue('true')).toBe(true);
    expect(parseParamValue('null')).toBeNull();
    expect(parseParamValue('"quoted"')).toBe('quoted');
    expect(parseParamValue('{"a":[1,2]}')).toEqual({ a: [1, 2] });
  });

  it('keeps any other text as a string', () => {
    expect(parseParamValue('World')).toBe('World');
    expect(parseParamValue('*/5 * * * *')).toBe('*/5 * * * *');
    expect(parseParamValue('')).toBe('');
    expect(parseParamValue('{broken')).toBe('{broken');
  });
});

describe('foldParamPairs', () => {
  it('folds each -p KEY VALUE into one --param token, values that look like options included', () => {
    const folded = foldParamPairs(['action', 'invoke', 'x', '-p', 'n', '-5', '--param', 'flag', '--json', '--json']);
    expect(folded).toEqual(['action', 'invoke', 'x', '--param', '["n","-5"]', '--param', '["flag","--json"]', '--json']);
    const pairs = folded.filter((_, i) => folded[i - 1] === '--param').reduce(
      (acc: Array<[string, unknown]> | undefined, token) => collectParam(token, acc),
      undefined,
    );
    expect(pairs).toEqual([['n', -5], ['flag', '--json']]);
  });

  it('leaves everything after -- alone', () => {
    expect(foldParamPairs(['a', '--', '-p', 'x'])).toEqual(['a', '--', '-p', 'x']);
  });

  it('refuses -p without both a key and a value, as a usage error', () => {
    expect(() => foldParamPairs(['trigger', 'fire', 't', '-p', 'only-key'])).toThrow(UsageError);
    expect(() => foldParamPairs(['-p'])).toThrow(/needs a key and a value/);
  });
});

describe('parseJsonObject', () => {
  it('names the flag when the text is not JSON or not an object', () => {
    expect(() => parseJsonObject('{nope', '--payload')).toThrow(/--payload is not valid JSON/);
    expect(() => parseJsonObject('[1]', '--payload')).toThrow(/--payload must be a JSON object/);
    expect(parseJsonObject('{"a":1}', '--payload')).toEqual({ a: 1 });
  });
});

describe('gatherParams', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kindling-cli-params-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes the param file first, then each -p in order, later ones winning', async () => {
    const file = join(dir, 'params.json');
    await writeFile(file, JSON.stringify({ name: 'file', keep: 1 }));
    const params = await gatherParams({ paramFile: file, param: [['name', 'flag'], ['n', 2], ['n', 3]] });
    expect(params).toEqual({ name: 'flag', keep: 1, n: 3 });
  });

  it('reports an unreadable or non-object param file as a usage error naming --param-file', async () => {
    await expect(gatherParams({ paramFile: join(dir, 'missing.json') })).rejects.toMatchObject({ field: '--param-file' });
    const list = join(dir, 'list.json');
    await writeFile(list, '[1, 2]');
    await expect(gatherParams({ paramFile: list })).rejects.toThrow(/--param-file must be a JSON object/);
  });
});
