import { KindlingError } from '@kindling/core';
import type { FastifyInstance } from 'fastify';

/**
 * Every body on `/api/v1` is JSON, whatever content type the client declares (`curl -d` sends
 * `application/x-www-form-urlencoded`); an empty body counts as none. Parsing keeps fastify's
 * protection against prototype poisoning.
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    // Fastify's parser answers through the callback; the promise it also returns carries nothing more.
    void parseJson(request, text, (error, value) => {
      if (!error) return done(null, value);
      done(new KindlingError('KND_VALIDATION', `The request content was malformed: ${syntaxProblem(text) ?? error.message}`), undefined);
    });
  });
}

/** What JSON.parse says is wrong (with a position); null when the text is JSON but was refused for another reason. */
function syntaxProblem(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The request body as a JSON object (absent → `{}`); arrays and scalars are refused. */
export function bodyObject(body: unknown, what = 'The request body'): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new KindlingError('KND_VALIDATION', `${what} must be a JSON object.`);
  return body as Record<string, unknown>;
}
