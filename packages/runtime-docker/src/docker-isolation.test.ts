import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import Dockerode from 'dockerode';
import { randomActivationId, type ActionRecord } from '@kindling/core';
import type { ContainerRuntime, RunOutcome } from '@kindling/runner';
import { createDockerRuntime, type DockerRuntimeOptions } from './docker-runtime.js';
import { buildTestImages, describeWithDocker, inspectOrNull, nodeAction, removeInstance, testInstance } from './test-support/docker.js';

const docker = new Dockerode();
const describeDocker = await describeWithDocker();
let nodeImage: string;
const runtimes: ContainerRuntime[] = [];
const instances: string[] = [];

async function startRuntime(options: DockerRuntimeOptions = {}): Promise<ContainerRuntime> {
  const instance = testInstance('iso');
  instances.push(instance);
  const runtime = createDockerRuntime({ nodeImage, prewarm: [], pauseGraceMs: null, ...options, instance });
  runtimes.push(runtime);
  await runtime.start();
  return runtime;
}

function run(runtime: ContainerRuntime, action: ActionRecord, params: Record<string, unknown> = {}): Promise<RunOutcome> {
  return runtime.run({ action, params, activationId: randomActivationId(), namespace: 'guest' });
}

const HEALTHY = nodeAction('healthy', 'function main() { return { healthy: true }; }');

/** The runner keeps serving other actions after one was contained. */
async function expectStillServing(runtime: ContainerRuntime): Promise<void> {
  const outcome = await run(runtime, HEALTHY);
  expect(outcome.response).toMatchObject({ statusCode: 0, result: { healthy: true } });
}

describeDocker('Docker runtime: limits and isolation', () => {
  beforeAll(async () => {
    nodeImage = (await buildTestImages(docker)).node;
  }, 120_000);

  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  afterAll(async () => {
    await Promise.all([...new Set(instances)].map((instance) => removeInstance(docker, instance)));
  });

  it('kills a run that exceeds its time limit, removes the container, and serves the next run in a new one', async () => {
    const runtime = await startRuntime();
    const action = nodeAction('spin', 'function main(p) { if (p.spin) for (;;) {} return { done: true }; }', { limits: { timeout: 1_000 } });
    const timedOut = await run(runtime, action, { spin: true });
    expect(timedOut.response).toMatchObject({
      status: 'action developer error',
      statusCode: 2,
      result: { error: 'The action exceeded its time limits of 1000 milliseconds.' },
    });
    expect(timedOut.timedOut).toBe(true);
    expect(await inspectOrNull(docker, timedOut.containerId!)).toBeNull();
    const next = await run(runtime, action);
    expect(next.response).toMatchObject({ statusCode: 0, result: { done: true } });
    expect(next.containerId).not.toBe(timedOut.containerId);
  });

  it('reports a container killed for exceeding its memory limit as such', async () => {
    const runtime = await startRuntime();
    const hog = nodeAction('hog', 'function main() { const hoard = []; for (;;) hoard.push(Buffer.alloc(8 << 20, 1)); }', { limits: { memory: 128 } });
    const outcome = await run(runtime, hog);
    expect(outcome.response).toMatchObject({
      status: 'action developer error',
      statusCode: 2,
      result: { error: 'The action exhausted its memory and was aborted.' },
    });
    expect(await inspectOrNull(docker, outcome.containerId!)).toBeNull();
    await expectStillServing(runtime);
  });

  it('contains a fork bomb with the pids limit', async () => {
    const runtime = await startRuntime({ pidsLimit: 64 });
    const bomb = nodeAction(
      'bomb',
      `async function main() {
        const { spawn } = require('node:child_process');
        let running = 0;
        for (;;) {
          const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
          const refused = await new Promise((resolve) => { child.once('spawn', () => resolve(null)); child.once('error', (e) => resolve(e.code)); });
          if (refused) return { running, refused };
          if (++running > 1000) return { running };
        }
      }`,
      { limits: { memory: 512 } },
    );
    const outcome = await run(runtime, bomb);
    expect(outcome.response).toMatchObject({ statusCode: 0, result: { refused: 'EAGAIN' } });
    // Each Node.js process is several tasks (threads count against the limit too).
    expect((outcome.response.result as { running: number }).running).toBeLessThan(64);
    await expectStillServing(runtime);
  });

  it('keeps the root filesystem read-only and /tmp writable', async () => {
    const runtime = await startRuntime();
    const writer = nodeAction(
      'writer',
      `function main() {
        const fs = require('node:fs');
        const attempt = (path) => { try { fs.writeFileSync(path, 'x'); return 'written'; } catch (e) { return e.code; } };
        fs.writeFileSync('/tmp/scratch.txt', 'kept');
        return { root: attempt('/escape.txt'), proxyDir: attempt('/kindling/escape.txt'), tmp: fs.readFileSync('/tmp/scratch.txt', 'utf8') };
      }`,
    );
    const outcome = await run(runtime, writer);
    expect(outcome.response).toMatchObject({ statusCode: 0, result: { root: 'EROFS', proxyDir: 'EROFS', tmp: 'kept' } });
  });

  it('gives an action no network: only loopback, and the host’s services are out of reach', async () => {
    const runtime = await startRuntime();
    // 4222 is the NATS server on the host's loopback: the container's loopback is its own.
    const probe = nodeAction(
      'probe',
      `async function main() {
        const interfaces = Object.keys(require('node:os').networkInterfaces());
        const connect = await new Promise((resolve) => {
          const socket = require('node:net').connect(4222, '127.0.0.1');
          socket.once('connect', () => { socket.destroy(); resolve('connected'); });
          socket.once('error', (e) => resolve(e.code));
        });
        return { interfaces, connect };
      }`,
    );
    const outcome = await run(runtime, probe);
    expect(outcome.response).toMatchObject({ statusCode: 0, result: { interfaces: ['lo'], connect: 'ECONNREFUSED' } });
  });
});
