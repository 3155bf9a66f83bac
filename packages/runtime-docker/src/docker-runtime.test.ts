import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import Dockerode from 'dockerode';
import { randomActivationId, type ActionRecord } from '@kindling/core';
import type { Container, ContainerFactory, ContainerRuntime, RunOutcome } from '@kindling/runner';
import { ContainerRuntime as Runtime } from '@kindling/runner';
import { DockerContainerFactory } from './docker-container-factory.js';
import { createDockerRuntime, type DockerRuntimeOptions } from './docker-runtime.js';
import { Labels } from './labels.js';
import { blackboxAction, buildTestImages, containersOf, describeWithDocker, inspectOrNull, nodeAction, removeInstance, testInstance } from './test-support/docker.js';
import { eventually } from '@kindling/test-support';

const docker = new Dockerode();
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const describeDocker = await describeWithDocker();
let images: { node: string; blackbox: string };
const runtimes: ContainerRuntime[] = [];
const instances: string[] = [];

async function startRuntime(options: DockerRuntimeOptions = {}): Promise<ContainerRuntime> {
  const instance = options.instance ?? testInstance('rt');
  instances.push(instance);
  const runtime = createDockerRuntime({ nodeImage: images.node, prewarm: [], pauseGraceMs: null, ...options, instance });
  runtimes.push(runtime);
  await runtime.start();
  return runtime;
}

function run(runtime: ContainerRuntime, action: ActionRecord, params: Record<string, unknown> = {}): Promise<RunOutcome> {
  return runtime.run({ action, params, activationId: randomActivationId(), namespace: 'guest' });
}


describeDocker('Docker runtime', () => {
  beforeAll(async () => {
    images = await buildTestImages(docker);
  }, 120_000);

  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.stop()));
  });

  afterAll(async () => {
    await Promise.all([...new Set(instances)].map((instance) => removeInstance(docker, instance)));
  });

  it('runs a Node.js action in a container with every limit applied, and returns its result and logs', async () => {
    const runtime = await startRuntime();
    const action = nodeAction('hello', 'function main(p) { console.log("hello", p.name); console.error("to stderr"); return { greeting: "Hello " + p.name, uid: process.getuid() }; }');
    const outcome = await run(runtime, action, { name: 'World' });
    expect(outcome.response).toMatchObject({ status: 'success', statusCode: 0, result: { greeting: 'Hello World', uid: 65534 } });
    // The two streams are read separately: their lines may come in either order.
    expect(outcome.logs).toHaveLength(2);
    expect(outcome.logs).toEqual(expect.arrayContaining([expect.stringMatching(/^\S+Z stdout: hello World$/), expect.stringMatching(/^\S+Z stderr: to stderr$/)]));
    expect(outcome.initTime).toBeGreaterThanOrEqual(0);
    const info = await docker.getContainer(outcome.containerId!).inspect();
    expect(info.Config.Image).toBe(images.node);
    expect(info.Config.User).toBe('65534:65534');
    expect(info.Config.Labels[Labels.runner]).toBe(instances.at(-1));
    expect(info.HostConfig).toMatchObject({
      NetworkMode: 'none',
      Memory: 256 * 1024 * 1024,
      MemorySwap: 256 * 1024 * 1024,
      PidsLimit: 1024,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Tmpfs: { '/tmp': expect.stringContaining('size=64m') },
    });
  });

  it('reuses the warm container for the next run of the same action revision, and not for another revision', async () => {
    const runtime = await startRuntime();
    const code = 'let runs = 0; function main() { return { runs: ++runs }; }';
    const action = nodeAction('counter', code);
    const first = await run(runtime, action);
    const second = await run(runtime, action);
    expect(second.containerId).toBe(first.containerId);
    expect(second.response.result).toEqual({ runs: 2 });
    expect(second.initTime).toBeUndefined();
    const updated = await run(runtime, nodeAction('counter', code));
    expect(updated.containerId).not.toBe(first.containerId);
    expect(updated.response.result).toEqual({ runs: 1 });
  });

  it('serves a first run from a prewarmed container, then starts a replacement', async () => {
    const runtime = await startRuntime({ prewarm: [{ kind: 'nodejs:20', memoryMb: 256, count: 1 }] });
    const prewarmed = runtime.stats().containers;
    expect(prewarmed).toEqual([expect.objectContaining({ state: 'prewarm', image: images.node, memoryMb: 256 })]);
    const outcome = await run(runtime, nodeAction('first', 'function main() { return { ok: true }; }'));
    expect(outcome.response.statusCode).toBe(0);
    expect(outcome.containerId).toBe(prewarmed[0]!.id);
    expect(outcome.initTime).toBeGreaterThanOrEqual(0);
    await eventually(() => runtime.stats().containers.some((c) => c.state === 'prewarm' && c.id !== null && c.id !== outcome.containerId), 'a new prewarmed container', 20_000);
  });

  it('runs a blackbox image that speaks the protocol on the socket, with its result and logs', async () => {
    const runtime = await startRuntime();
    const action = blackboxAction('echo', images.blackbox);
    const first = await run(runtime, action, { n: 1 });
    expect(first.response).toMatchObject({ statusCode: 0, result: { echo: { n: 1 }, actionName: '/guest/echo', uid: 65534 } });
    expect(first.logs.join('\n')).toContain(`stdout: blackbox echo ran ${(first.response.result as { activationId: string }).activationId}`);
    expect(first.logs.join('\n')).toContain('stderr: blackbox echo says hello on stderr');
    const second = await run(runtime, action, { n: 2 });
    expect(second.containerId).toBe(first.containerId);
    const info = await docker.getContainer(first.containerId!).inspect();
    expect(info.HostConfig).toMatchObject({ NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'] });
  });

  it('reports an image that does not exist as a developer error naming it, and keeps serving', async () => {
    const runtime = await startRuntime();
    const outcome = await run(runtime, blackboxAction('ghost', 'kindling-test/no-such-image:never'));
    expect(outcome.response).toMatchObject({ status: 'action developer error', statusCode: 2 });
    expect((outcome.response.result as { error: string }).error).toContain("'kindling-test/no-such-image:never' does not exist");
    expect((await run(runtime, nodeAction('fine', 'function main() { return {}; }'))).response.statusCode).toBe(0);
  });

  it('pauses an idle container, resumes it for the next run, and removes it paused', async () => {
    const runtime = await startRuntime({ pauseGraceMs: 50 });
    const action = nodeAction('sleepy', 'let runs = 0; function main() { return { runs: ++runs }; }');
    const first = await run(runtime, action);
    await eventually(async () => (await docker.getContainer(first.containerId!).inspect()).State.Paused, 'the container paused', 20_000);
    expect(runtime.stats().containers[0]!.state).toBe('paused');
    const second = await run(runtime, action);
    expect(second.containerId).toBe(first.containerId);
    expect(second.response.result).toEqual({ runs: 2 });
    // A container paused again is removed like any other when the runtime stops.
    await eventually(async () => (await docker.getContainer(first.containerId!).inspect()).State.Paused, 'the container paused', 20_000);
    await runtime.stop();
    expect(await inspectOrNull(docker, first.containerId!)).toBeNull();
  });

  it('runs concurrent invocations of more actions than fit: all complete, idle containers are evicted', async () => {
    const instance = testInstance('evict');
    instances.push(instance);
    const counted = countingFactory(new DockerContainerFactory({ nodeImage: images.node, instance }));
    const runtime = new Runtime({ factory: counted, prewarm: [], pauseGraceMs: null, capacityMemoryMb: 256 });
    runtimes.push(runtime);
    await runtime.start();
    const actions = ['a', 'b', 'c', 'd'].map((name) =>
      nodeAction(name, `async function main(p) { await new Promise((r) => setTimeout(r, 20)); return { action: "${name}", round: p.round }; }`, { limits: { memory: 128 } }),
    );
    const runs = [0, 1, 2].flatMap((round) => actions.map((action) => run(runtime, action, { round }).then((outcome) => ({ outcome, action: action.name, round }))));
    const results = await Promise.all(runs);
    for (const { outcome, action, round } of results) {
      expect(outcome.response).toMatchObject({ statusCode: 0, result: { action, round } });
    }
    expect(counted.created).toBeGreaterThanOrEqual(4);
    expect(counted.maxAlive).toBeLessThanOrEqual(2);
    expect(new Set(results.map((r) => r.outcome.containerId)).size).toBe(counted.created);
    expect(runtime.stats()).toMatchObject({ queued: 0 });
    expect(runtime.stats().memoryUsedMb).toBeLessThanOrEqual(256);
    await eventually(async () => (await containersOf(docker, instance)).length <= 2, 'at most two containers', 20_000);
  }, 60_000);

  it('runs limits.concurrency activations at once in one container, each with its own id, logs and result', async () => {
    const runtime = await startRuntime();
    // A barrier: no activation returns before all five are inside the same container.
    const code = `
      async function main(p) {
        const waiting = (globalThis.waiting ??= []);
        console.log('in', p.i);
        await new Promise((resolve) => { waiting.push(resolve); if (waiting.length >= p.n) for (const go of waiting.splice(0)) go(); });
        console.error('out', p.i);
        return { i: p.i, id: process.env.__OW_ACTIVATION_ID };
      }`;
    const action = nodeAction('together', code, { limits: { concurrency: 5 } });
    const ids = Array.from({ length: 5 }, () => randomActivationId());
    const outcomes = await Promise.all(ids.map((activationId, i) => runtime.run({ action, params: { i, n: 5 }, activationId, namespace: 'guest' })));
    outcomes.forEach((outcome, i) => {
      expect(outcome.response).toMatchObject({ statusCode: 0, result: { i, id: ids[i] } });
      expect(outcome.logs).toHaveLength(2);
      expect(outcome.logs).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`stdout: in ${i}$`)), expect.stringMatching(new RegExp(`stderr: out ${i}$`))]));
    });
    expect(new Set(outcomes.map((outcome) => outcome.containerId)).size).toBe(1);
    expect(runtime.stats().counters).toMatchObject({ coldStarts: 1, inFlight: 0 });
  }, 60_000);

  it('removes the containers and socket directories a killed invoker left, and no one else’s', async () => {
    const instance = testInstance('restart');
    instances.push(instance);
    const left = await containersLeftByKilledInvoker(instance);
    expect(left.length).toBe(2);
    for (const id of left) expect((await inspectOrNull(docker, id))?.State.Running).toBe(true);
    const socketRoot = join(tmpdir(), 'kindling-docker', instance);
    expect(readdirSync(socketRoot)).toHaveLength(2);
    const neighbour = await startRuntime({ prewarm: [{ kind: 'nodejs:20', memoryMb: 128, count: 1 }] });

    // The invoker restarts: its new runtime cleans up before it starts anything.
    const restarted = await startRuntime({ instance });
    for (const id of left) expect(await inspectOrNull(docker, id)).toBeNull();
    expect(await containersOf(docker, instance)).toEqual([]);
    expect(readdirSync(socketRoot)).toEqual([]);
    expect((await inspectOrNull(docker, neighbour.stats().containers[0]!.id!))?.State.Running).toBe(true);
    expect((await run(restarted, nodeAction('after', 'function main() { return { ok: 1 }; }'))).response.statusCode).toBe(0);
  }, 60_000);
});

/**
 * Starts an invoker's runtime in a child process (one prewarmed container, one warm after a
 * run), kills the process with SIGKILL, and returns the ids of the containers it had.
 */
async function containersLeftByKilledInvoker(instance: string): Promise<string[]> {
  const program = `
    import { createDockerRuntime } from '@kindling/runtime-docker';
    import { defaultLimits } from '@kindling/core';
    const runtime = createDockerRuntime(${JSON.stringify({ instance, nodeImage: images.node, prewarm: [{ kind: 'nodejs:20', memoryMb: 128, count: 1 }], pauseGraceMs: null })});
    await runtime.start();
    const action = { namespace: 'guest', name: 'busy', version: '0.0.1', publish: false, annotations: [], updated: 1,
      exec: { kind: 'nodejs:20', code: 'function main() { return {}; }', binary: false }, parameters: [], limits: defaultLimits() };
    await runtime.run({ action, params: {}, activationId: 'a', namespace: 'guest' });
    console.log(JSON.stringify(runtime.stats().containers.map((c) => c.id)));
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', program], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    return JSON.parse(line) as string[];
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
}

/** A real factory that counts the containers it has made and how many existed at once. */
function countingFactory(inner: ContainerFactory): ContainerFactory & { created: number; maxAlive: number } {
  let alive = 0;
  const counted = {
    name: inner.name,
    created: 0,
    maxAlive: 0,
    specFor: inner.specFor.bind(inner),
    specForKind: inner.specForKind.bind(inner),
    removeOrphans: () => inner.removeOrphans!(),
    async create(spec: Parameters<ContainerFactory['create']>[0]): Promise<Container> {
      const container = await inner.create(spec);
      counted.created++;
      counted.maxAlive = Math.max(counted.maxAlive, ++alive);
      const destroy = container.destroy.bind(container);
      let destroyed = false;
      container.destroy = async () => {
        if (!destroyed) {
          destroyed = true;
          alive--;
        }
        await destroy();
      };
      return container;
    },
  };
  return counted;
}
