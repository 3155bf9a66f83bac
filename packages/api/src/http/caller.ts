import { KindlingError } from '@kindling/core';
import type { FastifyRequest } from 'fastify';

/** Who is calling: the namespace their key belongs to. */
export interface Caller {
  namespace: string;
  uuid: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the basic-auth hook on every `/api/v1` route that needs a key. */
    caller: Caller | null;
  }
}

export const SYSTEM_NAMESPACE = 'whisk.system';

export function forbidden(): KindlingError {
  return new KindlingError('KND_FORBIDDEN', 'The supplied authentication is not authorized to access this resource.');
}

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new KindlingError('KND_UNAUTHENTICATED', 'The resource requires authentication, which was not supplied with the request.');
  return request.caller;
}

/** Resolves `_` to the caller's namespace; any other namespace than the caller's is a 403. */
export function ownNamespace(request: FastifyRequest, namespace: string): string {
  const caller = callerOf(request);
  const resolved = namespace === '_' ? caller.namespace : namespace;
  if (resolved !== caller.namespace) throw forbidden();
  return resolved;
}
