import { KindlingError } from '@kindling/core';
import { CommanderError } from 'commander';
import { ApiError } from './api-client.js';

/** Exit codes that scripts can rely on. */
export const ExitCode = {
  ok: 0,
  /** The request failed: an API error, or an activation that did not succeed. */
  failed: 1,
  /** The command line was wrong: unknown command or option, bad flag value, missing argument. */
  usage: 2,
  /** The API could not be reached. */
  unreachable: 3,
} as const;

/** A mistake on the command line or in its inputs (a flag value, a file, the config). */
export class UsageError extends KindlingError {
  constructor(message: string, field?: string) {
    super('KND_VALIDATION', message, { field });
    this.name = 'UsageError';
  }
}

export function usageError(message: string, field?: string): UsageError {
  return new UsageError(message, field);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help asked for (`--help`, `--version`) exits 0; help shown because a command was missing is usage.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof ApiError) return ExitCode.failed;
  if (error instanceof UsageError) return ExitCode.usage;
  if (error instanceof KindlingError && error.code === 'KND_UNREACHABLE') return ExitCode.unreachable;
  return ExitCode.failed;
}
