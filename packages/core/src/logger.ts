import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino redacts in every log line: credentials as they appear in feed parameters,
 * requests and configuration. Provider-declared secret parameters are added per feed.
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'params.password',
  'params.accessToken',
  'params.secret',
  'authKey',
  '*.authKey',
  'auth',
  'req.headers.authorization',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
  'apiKey',
  '*.apiKey',
];

export interface CreateLoggerOptions {
  level?: string;
  name?: string;
  /** Extra redaction paths (pino syntax). */
  redact?: string[];
  destination?: pino.DestinationStream;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env.KINDLING_LOG_LEVEL ?? 'info',
    base: options.name ? { name: options.name } : {},
    redact: { paths: [...REDACTED_PATHS, ...(options.redact ?? [])], censor: '[redacted]' },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** A logger that writes nothing: for tests and tools that have no one to tell. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Replaces every occurrence of each secret in `text` (error messages from drivers quote them). */
export function scrubSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}
