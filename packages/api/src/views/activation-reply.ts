import type { ActivationRecord } from '@kindling/core';
import type { FastifyReply } from 'fastify';
import { activationView } from './entity-views.js';

export const ACTIVATION_ID_HEADER = 'x-openwhisk-activation-id';

/** HTTP status of a finished blocking invoke: success 200, application or developer error 502, internal error 500. */
export function activationHttpStatus(activation: ActivationRecord): number {
  switch (activation.response.statusCode) {
    case 0:
      return 200;
    case 3:
      return 500;
    default:
      return 502;
  }
}

/** Answers with the whole activation record, or only its result when `result=true` was asked. */
export function sendActivation(reply: FastifyReply, activation: ActivationRecord, resultOnly: boolean): FastifyReply {
  reply.header(ACTIVATION_ID_HEADER, activation.activationId);
  const body = resultOnly ? activation.response.result : activationView(activation);
  return reply.code(activationHttpStatus(activation)).send(body ?? {});
}
