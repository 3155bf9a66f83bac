/** What `eventually` polls: anything falsy (undefined, null, false, 0, '') means "not yet". */
export type Probe<T> = () => Promise<T | undefined | null | false> | T | undefined | null | false;

export interface EventuallyOptions {
  /** How long to wait between two probes (default 20 ms). */
  intervalMs?: number;
  /**
   * Treat a probe that throws as "not yet" (the last error goes into the timeout message), for a
   * service that is still starting. Default false: the error fails the wait at once.
   */
  retryErrors?: boolean;
}

/**
 * Polls `probe` until it returns a truthy value and returns that value; after `timeoutMs` fails
 * with "timed out waiting for <what>". For tests that wait on real services and real time: the
 * bound is a deadline for failing, not a timing that is asserted.
 */
export async function eventually<T>(probe: Probe<T>, what: string, timeoutMs = 15_000, options: EventuallyOptions = {}): Promise<T> {
  const { intervalMs = 20, retryErrors = false } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      if (!retryErrors) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
