import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@kindling/core';
import { loadProviderPackage } from '@kindling/host';
import { startPlatform, type RunningPlatform } from '@kindling/platform';

/**
 * Provider packages loaded by name or path, as `kindling up --provider <pkg>` does: a project
 * folder with fake packages in its node_modules — a good provider, one that is not a provider,
 * one written for an SDK version the platform does not support, one that throws when imported.
 * Each bad one is a clear error naming the package; the platform starts without it and serves
 * the good one.
 */
const SDK = resolve(dirname(fileURLToPath(import.meta.url)), '../../packages/sdk');

const GOOD_PROVIDER = `
import { defineProvider, hook, SDK_VERSION, z } from '@kindling/sdk';
export default defineProvider({
  name: 'good',
  sdkVersion: SDK_VERSION,
  description: 'a third-party provider',
  kinds: {
    echo: {
      description: 'fires the JSON posted to its hook',
      params: z.strictObject({ label: z.string().default('echo') }),
      pattern: 'hook',
      start: hook(async (request, feed, ctx) => {
        const receipt = await ctx.fire(JSON.parse(request.body.toString('utf8')), { id: request.headers['x-delivery'] });
        return { status: 202, body: { event: receipt.event.id, label: feed.params.label } };
      }),
    },
  },
});
`;

async function writePackage(root: string, name: string, source: string, main = 'index.js'): Promise<void> {
  const dir = join(root, name);
  await mkdir(dirname(join(dir, main)), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', main }));
  await writeFile(join(dir, main), source);
}

describe('provider packages', () => {
  let project: string;

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'kindling-providers-'));
    const modules = join(project, 'node_modules');
    await mkdir(join(modules, '@kindling'), { recursive: true });
    await symlink(SDK, join(modules, '@kindling', 'sdk'), 'dir');
    await writePackage(modules, 'kindling-provider-good', GOOD_PROVIDER, 'dist/index.js');
    await writePackage(modules, 'kindling-provider-notaprovider', "export const greeting = 'hello';\n");
    // Built against a later SDK: its own defineProvider accepted it; this platform's loader must not.
    await writePackage(modules, 'kindling-provider-future', GOOD_PROVIDER.replace('defineProvider({', '({').replace('sdkVersion: SDK_VERSION', 'sdkVersion: 99').replace("name: 'good'", "name: 'future'"));
    await writePackage(modules, 'kindling-provider-broken', "throw new Error('missing configuration KINDLING_BROKEN_URL');\n");
    await writePackage(project, 'local-provider', GOOD_PROVIDER.replace("name: 'good'", "name: 'local'"), 'lib/entry.js');
    await mkdir(join(project, 'unbuilt-provider'));
    await writeFile(join(project, 'unbuilt-provider', 'package.json'), JSON.stringify({ name: 'unbuilt', type: 'module', main: 'dist/index.js' }));
  });

  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  describe('loadProviderPackage', () => {
    it('loads a provider by package name, from the project it is installed in', async () => {
      const provider = await loadProviderPackage('kindling-provider-good', project);
      expect(provider).toMatchObject({ name: 'good', sdkVersion: 1 });
      expect(Object.keys(provider.kinds)).toEqual(['echo']);
    });

    it('loads a provider from a package folder by path, through its package.json', async () => {
      expect((await loadProviderPackage('./local-provider', project)).name).toBe('local');
    });

    it('says a missing package is not installed, and how to install it', async () => {
      await expect(loadProviderPackage('kindling-provider-missing', project)).rejects.toMatchObject({
        code: 'KND_PROVIDER_LOAD',
        message: `provider package 'kindling-provider-missing' is not installed (looked from ${project}); install it with: npm install kindling-provider-missing`,
      });
    });

    it('says a package that exports no provider is not a Kindling provider', async () => {
      await expect(loadProviderPackage('kindling-provider-notaprovider', project)).rejects.toMatchObject({
        code: 'KND_PROVIDER_LOAD',
        message: "package 'kindling-provider-notaprovider' is not a Kindling provider: it exports no provider definition",
      });
    });

    it('names the SDK version a package was written for and the versions the platform supports', async () => {
      await expect(loadProviderPackage('kindling-provider-future', project)).rejects.toMatchObject({
        code: 'KND_PROVIDER_LOAD',
        message: "package 'kindling-provider-future' was written for Kindling SDK version 99; this platform supports 1",
      });
    });

    it('reports a package that throws when imported with its own message', async () => {
      await expect(loadProviderPackage('kindling-provider-broken', project)).rejects.toMatchObject({
        code: 'KND_PROVIDER_LOAD',
        message: "provider package 'kindling-provider-broken' failed to load: missing configuration KINDLING_BROKEN_URL",
      });
    });

    it('says a package folder is not built, and a path that does not exist does not', async () => {
      await expect(loadProviderPackage('./unbuilt-provider', project)).rejects.toThrow(/provider package at '.*unbuilt-provider' is not built: its entry .*dist\/index\.js does not exist/);
      await expect(loadProviderPackage('./nowhere', project)).rejects.toThrow(/provider path '.*nowhere' does not exist/);
    });
  });

  describe('kindling up with --provider packages', () => {
    let platform: RunningPlatform;
    let dataDir: string;
    const logLines: string[] = [];

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'kindling-loading-'));
      const destination = new Writable({
        write(chunk, _encoding, callback) {
          logLines.push(String(chunk));
          callback();
        },
      });
      platform = await startPlatform({
        port: 0,
        host: '127.0.0.1',
        dataDir,
        runtime: 'process',
        mqtt: false,
        providers: ['kindling-provider-missing', 'kindling-provider-notaprovider', 'kindling-provider-future', 'kindling-provider-broken', 'kindling-provider-good'],
        providersFrom: project,
        log: createLogger({ level: 'info', destination }),
      });
    });

    afterAll(async () => {
      await platform?.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${platform.apiUrl}${path}`, {
        method,
        headers: { authorization: `Basic ${Buffer.from(platform.guestAuth).toString('base64')}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> & Array<Record<string, unknown>> };
    };

    it('starts, and logs each package it could not load with the reason', () => {
      const skipped = logLines.map((line) => JSON.parse(line) as { msg: string; package?: string; err?: string }).filter((line) => line.msg === 'provider not loaded; the platform runs without it');
      expect(skipped.map((line) => [line.package, line.err])).toEqual([
        ['kindling-provider-missing', expect.stringContaining('is not installed')],
        ['kindling-provider-notaprovider', expect.stringContaining('is not a Kindling provider')],
        ['kindling-provider-future', expect.stringContaining('was written for Kindling SDK version 99')],
        ['kindling-provider-broken', expect.stringContaining('missing configuration KINDLING_BROKEN_URL')],
      ]);
    });

    it('lists the good provider next to the built-in ones, with its kinds and parameter schema', async () => {
      const { status, body } = await call('GET', '/api/v1/providers');
      expect(status).toBe(200);
      const names = body.map((provider) => provider.name);
      expect(names).toEqual(expect.arrayContaining(['alarms', 'good']));
      expect(names).not.toContain('future');
      expect(body.find((provider) => provider.name === 'good')).toMatchObject({
        kinds: [{ name: 'echo', pattern: 'hook', schema: { type: 'object', properties: { label: { type: 'string' } } } }],
      });
    });

    it('serves its kind as the feed action /whisk.system/good/echo', async () => {
      const { status, body } = await call('GET', '/api/v1/namespaces/whisk.system/actions/good/echo');
      expect(status).toBe(200);
      expect(body).toMatchObject({ name: 'echo', namespace: 'whisk.system/good' });
    });

    it('runs its feeds: a trigger created with a good/echo feed fires on a hook post', async () => {
      const created = await call('PUT', '/api/v1/namespaces/_/triggers/echoes', { feed: { provider: 'good', kind: 'echo', params: { label: 'loaded' } } });
      expect(created.status).toBe(200);
      const feed = await call('GET', '/api/v1/namespaces/_/feeds/echoes');
      const feedId = feed.body.id as string;
      let answer: Response | undefined;
      const deadline = Date.now() + 10_000;
      // The provider host starts the feed moments after CREATE: until then its hook answers 503.
      while (Date.now() < deadline) {
        answer = await fetch(`${platform.apiUrl}/hooks/good/${feedId}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-delivery': 'd-1' }, body: JSON.stringify({ hello: 'world' }) });
        if (answer.status !== 503) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(answer?.status).toBe(202);
      expect(await answer?.json()).toMatchObject({ label: 'loaded', event: 'd-1' });
    });
  });
});
