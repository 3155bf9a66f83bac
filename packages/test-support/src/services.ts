import { describe } from '@jest/globals';
import { connect } from 'node:net';

/**
 * Integration tests talk to real services. On a laptop without one, its suites are skipped
 * with a loud message; with CI=true a missing service fails the run instead.
 */
export async function serviceAvailable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** `describe` when the service answers, else a loud skip (or a failure under CI=true). */
export async function describeWithService(service: string, host: string, port: number): Promise<typeof describe> {
  return describeIf(await serviceAvailable(host, port), service, `${service} is not reachable at ${host}:${port}`);
}

/** `describe` when `available`, else a loud skip (or a failure under CI=true) saying why. */
export function describeIf(available: boolean, service: string, whyNot: string): typeof describe {
  if (available) return describe;
  if (process.env.CI === 'true') throw new Error(`${whyNot}; CI must run these tests (see .ci/run)`);
  console.warn(`\n\n*** SKIPPING ${service} integration tests: ${whyNot} ***\n`);
  return describe.skip as unknown as typeof describe;
}

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
export const describeWithNats = (): Promise<typeof describe> => describeWithService('NATS JetStream', '127.0.0.1', Number(new URL(NATS_URL).port || 4222));
