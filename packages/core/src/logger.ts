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

const LOG_METHODS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/**
 * A logger that replaces every occurrence of the given secret values, wherever they appear in a
 * log line (a driver's error message quoting a connection string, a provider logging its params).
 * Key-based redaction cannot catch those; this catches them by value.
 */
export function scrubbingLogger(log: Logger, secrets: readonly string[]): Logger {
  const values = secrets.filter((s) => s && s.length >= 4);
  if (values.length === 0) return log;
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return scrubSecrets(value, values);
    if (value instanceof Error) return scrubSecrets(value.stack ?? value.message, values);
    if (value && typeof value === 'object') {
      try {
        return JSON.parse(scrubSecrets(JSON.stringify(value), values));
      } catch {
        return '[unserialisable]';
      }
    }
    return value;
  };
  return new Proxy(log, {
    get(target, property, receiver) {
      if (property === 'child') {
        return (bindings: Record<string, unknown>, options?: object) =>
          scrubbingLogger(target.child(scrub(bindings) as Record<string, unknown>, options), values);
      }
      if ((LOG_METHODS as readonly (string | symbol)[]).includes(property)) {
        const method = Reflect.get(target, property, receiver) as (...args: unknown[]) => void;
        return (...args: unknown[]) => method.apply(target, args.map(scrub));
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
