import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { dockerAvailable } from '@kindling/runtime-docker';
import openwhisk from 'openwhisk';
import { describeIf, eventually } from '@kindling/test-support';
import { PlatformFixture, PLATFORM_WAIT } from './platform-support.js';

/**
 * `kindling up --runtime docker`: the same flow as on the process runtime, with each action in
 * a container (no network, read-only root, limits); the image is built offline on first use.
 */
const describeDocker = describeIf(await dockerAvailable(), 'Docker', 'no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)');

describeDocker('kindling up with the Docker runtime', () => {
  const fixture = new PlatformFixture('embedded', 'docker');
  let ow: ReturnType<typeof openwhisk>;

  beforeAll(async () => {
    await fixture.start();
    ow = openwhisk({ apihost: fixture.platform.apiUrl, api_key: fixture.platform.guestAuth });
  }, 120_000);

  afterAll(async () => {
    await fixture.dispose();
  });

  it('runs actions in containers: blocking invoke, a rule on a hand-fired trigger, and a timeout', async () => {
    await ow.actions.create({
      name: 'where',
      action: "const fs = require('fs'); function main(p) { let writable = true; try { fs.writeFileSync('/probe', 'x'); } catch { writable = false; } console.log('in a container'); return { n: p.n, rootWritable: writable }; }",
      kind: 'nodejs:20',
    });
    const run = await ow.actions.invoke({ name: 'where', params: { n: 1 }, blocking: true });
    expect(run.response?.result).toEqual({ n: 1, rootWritable: false });
    expect(run.logs.join('\n')).toContain('in a container');

    await ow.triggers.create({ name: 'pokes' });
    await ow.rules.create({ name: 'pokes-where', trigger: 'pokes', action: 'where' });
    await ow.triggers.invoke({ name: 'pokes', params: { n: 2 } });
    await eventually(async () => {
      const list = (await ow.activations.list({ name: 'where', docs: true })) as unknown as Array<{ response: { result: { n?: number } } }>;
      return list.some((a) => a.response.result.n === 2);
    }, 'the rule-driven run', 15_000, PLATFORM_WAIT);

    await ow.actions.create({ name: 'slow', action: 'function main() { while (true) {} }', kind: 'nodejs:20', limits: { timeout: 500 } });
    await expect(ow.actions.invoke({ name: 'slow', blocking: true })).rejects.toMatchObject({ statusCode: 502 });
    const again = await ow.actions.invoke({ name: 'where', params: { n: 3 }, blocking: true });
    expect(again.response?.result).toMatchObject({ n: 3 });
  });
});
