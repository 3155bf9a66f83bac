import { isKindlingError, KindlingError, type ErrorCode } from '@kindling/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_REALM } from '../auth/basic-auth.js';

/** OpenWhisk's error body `{error, code}` (code = the request id), plus Kindling's error code. */
export interface ErrorBody {
  error: string;
  code: string;
  kindlingCode: ErrorCode;
}

export const NOT_FOUND_MESSAGE = 'The requested resource does not exist.';

/** `challenge`: a 401 carries OpenWhisk's Basic challenge, except where basic auth is not the scheme (hooks). */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: KindlingError, options: { challenge?: boolean } = {}): FastifyReply {
  if (error.status === 401 && options.challenge !== false) reply.header('www-authenticate', `Basic realm="${AUTH_REALM}"`);
  const body: ErrorBody = { error: error.message, code: request.id, kindlingCode: error.code };
  return reply.code(error.status).type('application/json').send(body);
}

/** Turns anything thrown in a route, or by fastify itself, into a coded error with a clear message. */
export function toKindlingError(error: unknown, bodyLimit: number): KindlingError {
  if (isKindlingError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KindlingError('KND_PAYLOAD_TOO_LARGE', `The request content exceeds the maximum allowed size of ${bodyLimit} bytes.`);
    case 'FST_ERR_CTP_INVALID_JSON':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new KindlingError('KND_VALIDATION', `The request content was malformed: ${fastifyError.message ?? 'not valid JSON'}`);
  }
  if (error instanceof SyntaxError) return new KindlingError('KND_VALIDATION', `The request content was malformed: ${error.message}`);
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code: ErrorCode = status === 413 ? 'KND_PAYLOAD_TOO_LARGE' : status === 404 ? 'KND_NOT_FOUND' : 'KND_VALIDATION';
    return new KindlingError(code, fastifyError.message ?? 'Bad request.');
  }
  return new KindlingError('KND_INTERNAL', 'The server encountered an internal error.', { cause: error });
}
