import { readFileSync } from 'node:fs';
import { messageOf } from '@kindling/core';

export interface TrappedError {
  kind: 'uncaught exception' | 'unhandled rejection';
  message: string;
  stack: string | undefined;
}

type Listener = (...args: unknown[]) => void;

/**
 * The process object that emits `uncaughtException` and `unhandledRejection`. Jest runs a test
 * file in a vm context whose `process` is a copy that never emits them; a function of a Node
 * built-in belongs to the outer realm, so a function made from its constructor sees the real one.
 * Outside Jest this is just `process`.
 */
function realProcess(): NodeJS.Process {
  const OuterFunction = readFileSync.constructor as FunctionConstructor;
  return new OuterFunction('return process')() as NodeJS.Process;
}

/**
 * Catches what escapes provider code while armed: uncaught exceptions and unhandled rejections.
 * The test runner's own handlers are set aside meanwhile (they would fail the test with the bare
 * error instead of the rule it breaks) and put back on `disarm`.
 */
export class ErrorTrap {
  readonly caught: TrappedError[] = [];
  private saved: { exception: Listener[]; rejection: Listener[] } | undefined;
  private readonly process = realProcess();
  private readonly onException: Listener = (error) => this.record('uncaught exception', error);
  private readonly onRejection: Listener = (reason) => this.record('unhandled rejection', reason);

  arm(): void {
    if (this.saved) return;
    const proc = this.process;
    this.saved = {
      exception: proc.listeners('uncaughtException') as Listener[],
      rejection: proc.listeners('unhandledRejection') as Listener[],
    };
    proc.removeAllListeners('uncaughtException');
    proc.removeAllListeners('unhandledRejection');
    proc.on('uncaughtException', this.onException);
    proc.on('unhandledRejection', this.onRejection);
  }

  disarm(): void {
    const saved = this.saved;
    if (!saved) return;
    this.saved = undefined;
    const proc = this.process;
    proc.off('uncaughtException', this.onException);
    proc.off('unhandledRejection', this.onRejection);
    for (const listener of saved.exception) proc.on('uncaughtException', listener);
    for (const listener of saved.rejection) proc.on('unhandledRejection', listener);
  }

  private record(kind: TrappedError['kind'], error: unknown): void {
    this.caught.push({ kind, message: messageOf(error), stack: error instanceof Error ? error.stack : undefined });
  }
}
