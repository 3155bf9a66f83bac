import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, randomId } from '@kindling/core';
import { startPlatform, type PlatformOptions, type RunningPlatform } from '@kindling/platform';
import { connectNatsBackend } from '@kindling/nats';
import { openwhiskClient, type OpenWhiskClient, describeWithNats, NATS_URL, eventually } from '@kindling/test-support';
import { PLATFORM_WAIT } from './platform-support.js';

/**
 * A distributed deployment: the roles in separate platform instances (as separate processes
 * would run them), sharing one NATS. The API and provider host in one, the rule engine in
 * another, the invoker in a third.
 */
const describeNats = await describeWithNats();

describeNats('roles in separate processes, sharing NATS', () => {
  const scope = `e2e-roles-${randomId(4)}`;
  const parts: RunningPlatform[] = [];
  let dataDir: string;
  let ow: OpenWhiskClient;

  const options = (roles: PlatformOptions['roles']): PlatformOptions => ({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    runtime: 'process',
    providers: [],
    mqtt: false,
    natsUrl: NATS_URL,
    natsScope: scope,
    roles,
    log: createLogger({ level: process.env.KINDLING_LOG_LEVEL ?? 'warn', name: 'e2e-roles' }),
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kindling-roles-'));
    parts.push(await startPlatform(options(['invoker'])));
    parts.push(await startPlatform(options(['rules'])));
    const front = await startPlatform(options(['api', 'providers']));
    parts.push(front);
    ow = openwhiskClient(front.apiUrl!, front.guestAuth);
  });

  afterAll(async () => {
    for (const part of parts.reverse()) await part.stop();
    const backend = await connectNatsBackend({ servers: NATS_URL, scope });
    await backend.destroyScope();
    await backend.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs only the roles asked for', () => {
    expect(parts.map((p) => [p.roles, Boolean(p.apiUrl)])).toEqual([
      [['invoker'], false],
      [['rules'], false],
      [['api', 'providers'], true],
    ]);
  });

  it('invokes through the invoker of another process, and fires rules through the rule engine of a third', async () => {
    await ow.actions.create({ name: 'double', action: 'function main(p) { return { twice: (p.n ?? 0) * 2 }; }', kind: 'nodejs:20' });
    const run = await ow.actions.invoke({ name: 'double', params: { n: 21 }, blocking: true });
    expect(run.response?.result).toEqual({ twice: 42 });

    await ow.triggers.create({ name: 'ticks' });
    await ow.feeds.create({ name: '/whisk.system/alarms/interval', trigger: 'ticks', params: { seconds: 1, trigger_payload: { n: 5 } } });
    await ow.rules.create({ name: 'ticks-double', trigger: 'ticks', action: 'double' });
    await eventually(async () => {
      const list = (await ow.activations.list({ name: 'double', docs: true, limit: 50 })) as unknown as Array<{ cause?: string; response: { result: { twice?: number } } }>;
      return list.filter((a) => a.cause && a.response.result.twice === 10).length >= 2;
    }, 'two rule-driven runs', 15_000, PLATFORM_WAIT);
  });

  it('refuses to run some roles on the embedded backend, which lives in one process', async () => {
    await expect(startPlatform({ ...options(['api']), natsUrl: undefined })).rejects.toMatchObject({ code: 'KND_VALIDATION', field: 'roles' });
  });
});
