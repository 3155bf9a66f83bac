import { KindlingError } from '@kindling/core';

/**
 * Runs a provider call with a deadline, so that a provider that hangs cannot hold up its host.
 * A throw inside stays a rejection of the returned promise.
 */
export async function guardedCall<T>(what: string, timeoutMs: number, call: () => Promise<T> | T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KindlingError('KND_TIMEOUT', `${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(call), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
