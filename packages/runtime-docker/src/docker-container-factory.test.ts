import { describe, expect, it } from '@jest/globals';
import { KindlingError } from '@kindling/core';
import { ActionDeveloperError } from '@kindling/runner';
import { containerConfig, type ContainerSettings } from './container-config.js';
import { DockerContainerFactory } from './docker-container-factory.js';
import { blackboxAction, nodeAction } from './test-support/docker.js';

// These need no engine: they check what the factory would ask Docker for.

const settings: ContainerSettings = {
  instance: 'unit',
  session: 'abcd1234',
  user: '65534:65534',
  pidsLimit: 1024,
  tmpfsMb: 64,
  networkMode: 'bridge',
  env: { __OW_API_HOST: 'http://127.0.0.1:3233' },
  runtimeImages: new Set(['kindling/nodejs:local']),
};

describe('containerConfig', () => {
  it('gives a runtime container its limits, socket mount, labels and V8 heap size', () => {
    const config = containerConfig({ image: 'kindling/nodejs:local', memoryMb: 128, network: false }, settings, 'kindling-unit-1', '/tmp/kd/abcd1234-1');
    expect(config).toMatchObject({
      name: 'kindling-unit-1',
      Image: 'kindling/nodejs:local',
      User: '65534:65534',
      WorkingDir: '/tmp',
      Labels: { 'dev.kindling.runner': 'unit', 'dev.kindling.session': 'abcd1234' },
      HostConfig: {
        NetworkMode: 'none',
        Memory: 128 * 1024 * 1024,
        MemorySwap: 128 * 1024 * 1024,
        PidsLimit: 1024,
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Binds: ['/tmp/kd/abcd1234-1:/run/kindling'],
        LogConfig: { Type: 'none' },
      },
    });
    expect(config.Env).toEqual(
      expect.arrayContaining(['__KINDLING_PROXY_SOCKET=/run/kindling/proxy.sock', 'NODE_OPTIONS=--max-old-space-size=128', '__OW_API_HOST=http://127.0.0.1:3233']),
    );
  });

  it('gives a blackbox container the same limits, keeps its working directory, and leaves NODE_OPTIONS alone', () => {
    const config = containerConfig({ image: 'example/blackbox:1', memoryMb: 256, network: false }, settings, 'n', '/tmp/kd/x');
    expect(config.WorkingDir).toBeUndefined();
    expect(config.Env!.some((entry) => entry.startsWith('NODE_OPTIONS='))).toBe(false);
    expect(config.HostConfig).toMatchObject({ NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'], PidsLimit: 1024 });
  });

  it('puts a container that asks for network on the configured network', () => {
    const config = containerConfig({ image: 'kindling/nodejs:local', memoryMb: 256, network: true }, settings, 'n', '/tmp/kd/x');
    expect(config.HostConfig!.NetworkMode).toBe('bridge');
  });
});

describe('DockerContainerFactory specs and options', () => {
  const factory = new DockerContainerFactory({ nodeImage: 'kindling/nodejs:local', instance: 'unit' });

  it('runs every nodejs kind on the Node.js image, without network unless the action says network: true', () => {
    expect(factory.specFor(nodeAction('a', 'function main() {}', { limits: { memory: 128 } }))).toEqual({ image: 'kindling/nodejs:local', memoryMb: 128, network: false });
    const networked = nodeAction('b', 'function main() {}', { annotations: [{ key: 'network', value: true }] });
    expect(factory.specFor(networked)).toEqual({ image: 'kindling/nodejs:local', memoryMb: 256, network: true });
    expect(factory.specForKind('nodejs:default', 256)).toEqual({ image: 'kindling/nodejs:local', memoryMb: 256, network: false });
  });

  it('runs a blackbox action on its own image', () => {
    expect(factory.specFor(blackboxAction('bb', 'example/blackbox:1'))).toEqual({ image: 'example/blackbox:1', memoryMb: 256, network: false });
  });

  it('refuses a kind it cannot run as the action developer’s error', () => {
    expect(() => factory.specForKind('python:3', 256)).toThrow(ActionDeveloperError);
  });

  it('rejects bad options with errors naming the field', () => {
    expect(() => new DockerContainerFactory({ instance: 'has space' })).toThrow(/'docker\.instance'/);
    expect(() => new DockerContainerFactory({ user: 'nobody' })).toThrow(/'docker\.user': must be numeric 'uid:gid'/);
    expect(() => new DockerContainerFactory({ pidsLimit: 2 })).toThrow(/'docker\.pidsLimit'/);
    expect(() => new DockerContainerFactory({ socketRoot: `/tmp/${'deep/'.repeat(20)}` })).toThrow(KindlingError);
  });
});
