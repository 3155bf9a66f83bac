import { AsyncLocalStorage, createHook, type AsyncHook } from 'node:async_hooks';

/** A handle created by provider code that is still open. */
export interface LiveResource {
  readonly asyncId: number;
  /** The async resource type: `Timeout` for timers, `TCPWRAP`/`TLSWRAP`/… for sockets. */
  type: string;
  /** What `run` was given when the provider code that created it ran (the feed). */
  owner: string;
  /** Where it was created. */
  createdAt: string;
}

/** Async resource types that hold the process open until closed: a timer, a socket, a server, a watcher. */
const HANDLE_TYPES = new Set([
  'Timeout',
  'TCPWRAP',
  'TLSWRAP',
  'PIPEWRAP',
  'UDPWRAP',
  'TCPSERVERWRAP',
  'PIPESERVERWRAP',
  'FSEVENTWRAP',
  'STATWATCHER',
  'PROCESSWRAP',
  'SIGNALWRAP',
  'TTYWRAP',
]);

/**
 * Tracks the timers and handles that provider code creates. Provider calls run inside `run`
 * (an AsyncLocalStorage scope), so every resource created in their async chains, including in
 * their callbacks and timers, is known as theirs; the platform's work done for them (a publish,
 * a cursor write) runs in `outside`, so it is not.
 */
export class ResourceTracker {
  private readonly scope = new AsyncLocalStorage<string>();
  private readonly live = new Map<number, LiveResource>();
  private hook: AsyncHook | undefined;

  start(): void {
    if (this.hook) return;
    this.hook = createHook({
      init: (asyncId, type) => {
        if (!HANDLE_TYPES.has(type)) return;
        const owner = this.scope.getStore();
        if (owner === undefined) return;
        this.live.set(asyncId, { asyncId, type, owner, createdAt: deepStack() });
      },
      destroy: (asyncId) => {
        this.live.delete(asyncId);
      },
    }).enable();
  }

  stop(): void {
    this.hook?.disable();
    this.hook = undefined;
  }

  /** Runs provider code as `owner`. */
  run<T>(owner: string, call: () => T): T {
    return this.scope.run(owner, call);
  }

  /** Runs platform code on behalf of the provider, not counted as the provider's. */
  outside<T>(call: () => T): T {
    return this.scope.exit(call);
  }

  /** The owner of the code running now, if it is provider code. */
  currentOwner(): string | undefined {
    return this.scope.getStore();
  }

  /** Handles created by provider code that are still open. */
  liveResources(): LiveResource[] {
    return [...this.live.values()];
  }

  isLive(asyncId: number): boolean {
    return this.live.has(asyncId);
  }
}

/** The stack here, deep enough to reach the provider's frame under Node's and the host's. */
export function deepStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  try {
    return new Error('created here').stack?.split('\n').slice(2).join('\n') ?? '';
  } finally {
    Error.stackTraceLimit = limit;
  }
}
