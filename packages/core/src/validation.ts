import type { z } from 'zod';
import { KindlingError, type ErrorCode } from './errors.js';

/**
 * Parses `input` with `schema` and turns the first problems into one KindlingError whose
 * message names each offending field, so that a 400 tells the user exactly what to fix.
 */
export function parseWith<T extends z.ZodType>(
  schema: T,
  input: unknown,
  options: { code?: ErrorCode; prefix?: string } = {},
): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationError(result.error, options);
}

export function validationError(
  error: z.ZodError,
  options: { code?: ErrorCode; prefix?: string } = {},
): KindlingError {
  const issues = error.issues.slice(0, 5).map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const basePath = [options.prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (keys.length > 0) {
      const fields = keys.map((k) => (basePath ? `${basePath}.${k}` : k));
      return { field: fields[0] ?? basePath, text: `unknown field${keys.length > 1 ? 's' : ''} ${fields.map((f) => `'${f}'`).join(', ')}` };
    }
    const field = basePath || '(body)';
    return { field, text: `'${field}': ${issue.message}` };
  });
  const first = issues[0];
  return new KindlingError(options.code ?? 'KND_VALIDATION', issues.map((i) => i.text).join('; '), {
    field: first?.field,
    cause: error,
  });
}
