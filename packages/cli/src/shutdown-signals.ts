const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Exit code when a second Ctrl-C cuts a slow stop short (128 + SIGINT, as shells report it). */
export const FORCED_EXIT_CODE = 130;

export interface ShutdownWatch {
  /** Resolves with the signal's name on the first SIGINT or SIGTERM. */
  requested: Promise<string>;
  /** Stops listening, so that the signals act as usual again. */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM from now on (a Ctrl-C during start-up is therefore a clean
 * stop once started). A second signal while stopping exits at once: the user insists.
 */
export function watchShutdownSignals(onRepeat: () => void = () => process.exit(FORCED_EXIT_CODE)): ShutdownWatch {
  let received: string | undefined;
  let resolve: (signal: string) => void = () => undefined;
  const requested = new Promise<string>((r) => (resolve = r));
  const listener = (signal: NodeJS.Signals) => {
    if (received !== undefined) return onRepeat();
    received = signal;
    resolve(signal);
  };
  for (const signal of SIGNALS) process.on(signal, listener);
  return {
    requested,
    dispose: () => {
      for (const signal of SIGNALS) process.off(signal, listener);
    },
  };
}
