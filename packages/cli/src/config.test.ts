import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { configFilePath, DEFAULT_APIHOST, pickClientConfig, readConfigFile, resolveClientConfig, writeConfigFile } from './config.js';
import { UsageError } from './exit-codes.js';

const FILE = { apihost: 'http://file:1', auth: 'file-uuid:file-key' };

describe('pickClientConfig precedence', () => {
  const all = {
    KINDLING_APIHOST: 'http://kindling-env:2',
    KINDLING_AUTH: 'kenv:key',
    __OW_API_HOST: 'http://ow-env:3',
    __OW_API_KEY: 'owenv:key',
  };

  it('takes flags first', () => {
    expect(pickClientConfig({ apihost: 'http://flag:4', auth: 'flag:key' }, all, FILE, 'cfg')).toEqual({ apihost: 'http://flag:4', auth: 'flag:key' });
  });

  it('then KINDLING_APIHOST / KINDLING_AUTH', () => {
    expect(pickClientConfig({}, all, FILE, 'cfg')).toEqual({ apihost: 'http://kindling-env:2', auth: 'kenv:key' });
  });

  it("then OpenWhisk's __OW_API_HOST / __OW_API_KEY", () => {
    expect(pickClientConfig({}, { __OW_API_HOST: all.__OW_API_HOST, __OW_API_KEY: all.__OW_API_KEY }, FILE, 'cfg')).toEqual({
      apihost: 'http://ow-env:3',
      auth: 'owenv:key',
    });
  });

  it('then the config file, each setting on its own', () => {
    expect(pickClientConfig({}, { KINDLING_AUTH: 'kenv:key' }, FILE, 'cfg')).toEqual({ apihost: 'http://file:1', auth: 'kenv:key' });
    expect(pickClientConfig({}, {}, FILE, 'cfg')).toEqual(FILE);
  });

  it('defaults the API host to the local kindling up, and gives a host without scheme http://', () => {
    expect(pickClientConfig({}, {}, { auth: 'a:b' }, 'cfg').apihost).toBe(DEFAULT_APIHOST);
    expect(pickClientConfig({ apihost: '127.0.0.1:9999/' }, {}, { auth: 'a:b' }, 'cfg').apihost).toBe('http://127.0.0.1:9999');
  });

  it('without any key, says where a key can come from', () => {
    let error: unknown;
    try {
      pickClientConfig({}, {}, {}, '/tmp/x/config.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/--auth.*KINDLING_AUTH.*kindling up.*\/tmp\/x\/config\.json/);
  });

  it('refuses a key not written uuid:key and a non-http host, naming where it came from', () => {
    expect(() => pickClientConfig({}, { KINDLING_AUTH: 'nocolon' }, {}, 'cfg')).toThrow(/KINDLING_AUTH must be written <uuid>:<key>/);
    expect(() => pickClientConfig({ apihost: 'ftp://x' }, {}, { auth: 'a:b' }, 'cfg')).toThrow(/--apihost must be http/);
  });
});

describe('config file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kindling-cli-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lives at $KINDLING_CONFIG, else ~/.kindling/config.json', () => {
    expect(configFilePath({ KINDLING_CONFIG: '/elsewhere/c.json', HOME: '/home/u' })).toBe('/elsewhere/c.json');
    expect(configFilePath({ HOME: '/home/u' })).toBe('/home/u/.kindling/config.json');
  });

  it('is written for its owner only, keeps keys it does not know, and is read back', async () => {
    const path = join(dir, 'nested', 'config.json');
    await writeConfigFile(path, { apihost: 'http://old:1', auth: 'old:key' });
    await writeFile(path, JSON.stringify({ apihost: 'http://old:1', auth: 'old:key', theme: 'dark' }));
    await writeConfigFile(path, FILE);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ ...FILE, theme: 'dark' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await resolveClientConfig({}, { KINDLING_CONFIG: path })).toEqual(FILE);
  });

  it('is empty when absent, and a usage error naming the file when malformed', async () => {
    expect(await readConfigFile(join(dir, 'absent.json'))).toEqual({});
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ not json');
    await expect(readConfigFile(bad)).rejects.toThrow(new RegExp(`config file ${bad} is not valid JSON`));
    await writeFile(bad, JSON.stringify({ auth: 42 }));
    await expect(readConfigFile(bad)).rejects.toThrow(/'auth'/);
  });
});
