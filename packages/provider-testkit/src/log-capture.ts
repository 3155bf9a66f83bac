import { Writable } from 'node:stream';
import { format } from 'node:util';
import { createLogger, type Logger } from '@kindling/core';

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/**
 * Everything written to the platform's logger (every level, as the provider host would log it
 * with debug on) and to the console while capturing: where a leaked secret would show up.
 */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger;
  private restoreConsole: (() => void) | undefined;

  constructor() {
    const lines = this.lines;
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk).trimEnd());
        callback();
      },
    });
    this.logger = createLogger({ level: 'trace', name: 'conformance', destination });
  }

  /** Also records what is written to the console (a provider that logs around its logger). */
  captureConsole(): void {
    if (this.restoreConsole) return;
    const original = new Map(CONSOLE_METHODS.map((method) => [method, console[method]] as const));
    for (const method of CONSOLE_METHODS) {
      console[method] = (...args: unknown[]) => {
        this.lines.push(`console.${method}: ${format(...args)}`);
      };
    }
    this.restoreConsole = () => {
      for (const [method, fn] of original) console[method] = fn;
    };
  }

  releaseConsole(): void {
    this.restoreConsole?.();
    this.restoreConsole = undefined;
  }

  /** Lines that contain `secret`. */
  linesWith(secret: string): string[] {
    return this.lines.filter((line) => line.includes(secret));
  }
}
