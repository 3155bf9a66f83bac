import {
  isKindlingError,
  KindlingError,
  messageOf,
  type FeedContext,
  type FireOptions,
  type FireReceipt,
  type HookRequest,
  type HookResponse,
} from '@kindling/sdk';
import { Webhooks } from '@octokit/webhooks';
import { PING_EVENT, type EventSelector } from './github-events.js';
import { trimPayload } from './trim-payload.js';

export interface DeliveryHandlerOptions {
  /** The webhook secret GitHub signs deliveries with. */
  secret: string;
  selector: EventSelector;
  /** The events' subject when a payload names neither a repository nor an organisation. */
  defaultSubject: string;
}

type Payload = Record<string, unknown>;

const REDELIVER_HINT =
  "GitHub does not retry by itself: redeliver it from the hook's Recent Deliveries, or with POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts";

function badRequest(message: string): KindlingError {
  return new KindlingError('KND_VALIDATION', message);
}

/** GitHub posts `application/json`, or `payload=<json>` when a hook was set up with the form content type. */
function payloadText(request: HookRequest, body: string): string {
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.startsWith('application/x-www-form-urlencoded')) return body;
  const payload = new URLSearchParams(body).get('payload');
  if (payload === null) throw badRequest("the form-encoded delivery has no 'payload' field");
  return payload;
}

function parsePayload(text: string): Payload {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw badRequest(`the delivery's body is not JSON: ${messageOf(error)}`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw badRequest("the delivery's body is not a JSON object");
  return payload as Payload;
}

function subjectOf(payload: Payload, fallback: string): string {
  const repository = payload.repository as { full_name?: unknown } | undefined;
  if (typeof repository?.full_name === 'string') return repository.full_name;
  const organization = payload.organization as { login?: unknown } | undefined;
  if (typeof organization?.login === 'string') return organization.login;
  return fallback;
}

/**
 * Answers the deliveries of one feed: the signature is checked over the raw body first (401 and
 * nothing fired when it is missing or wrong), then the body is read, `ping` is answered, the
 * feed's event filter applied, and the event fired. The 2xx goes out only once the event is
 * durable; when it cannot be stored the error propagates and the sender gets a 503.
 */
export function createDeliveryHandler(options: DeliveryHandlerOptions, ctx: FeedContext): (request: HookRequest) => Promise<HookResponse> {
  const webhooks = new Webhooks({ secret: options.secret });
  const { selector } = options;

  async function verified(request: HookRequest): Promise<string> {
    const signature = request.headers['x-hub-signature-256'];
    if (!signature) throw new KindlingError('KND_UNAUTHENTICATED', 'the delivery has no X-Hub-Signature-256 header: set the hook\'s secret in GitHub (see READ of this feed)');
    const body = request.body.toString('utf8');
    const valid = body.length > 0 && (await webhooks.verify(body, signature).catch(() => false));
    if (!valid) {
      ctx.log.warn({ delivery: request.headers['x-github-delivery'], event: request.headers['x-github-event'] }, 'refused a delivery whose signature does not match');
      throw new KindlingError('KND_UNAUTHENTICATED', "X-Hub-Signature-256 does not match the body and this feed's secret");
    }
    return body;
  }

  async function fire(payload: Payload, fireOptions: FireOptions, deliveryBytes: number): Promise<FireReceipt> {
    try {
      return await ctx.fire(payload, fireOptions);
    } catch (error) {
      if (!isKindlingError(error) || error.code !== 'KND_PAYLOAD_TOO_LARGE') throw error;
      const trimmed = trimPayload(payload, deliveryBytes);
      if (!trimmed) throw new KindlingError('KND_PAYLOAD_TOO_LARGE', `delivery ${fireOptions.id} is too large for a trigger event, even without its largest fields`);
      ctx.log.warn({ delivery: fireOptions.id, bytes: deliveryBytes, omitted: trimmed.kindlingTruncated.omitted }, 'delivery too large for an event; fired without its largest fields');
      return ctx.fire(trimmed, fireOptions);
    }
  }

  return async (request) => {
    const body = await verified(request);
    const event = request.headers['x-github-event'];
    const delivery = request.headers['x-github-delivery'];
    if (!event) throw badRequest('the delivery has no X-GitHub-Event header');
    if (!delivery) throw badRequest('the delivery has no X-GitHub-Delivery header');
    const payload = parsePayload(payloadText(request, body));
    if (event === PING_EVENT) return { status: 200, body: { fired: false, reason: 'ping: the hook reaches this feed and its secret matches' } };

    const action = typeof payload.action === 'string' ? payload.action : undefined;
    const name = action === undefined ? event : `${event}.${action}`;
    if (!selector.accepts(event, action)) {
      return { status: 200, body: { fired: false, reason: `'${name}' is not among this feed's events (${selector.toString()})` } };
    }
    const fireOptions: FireOptions = { id: delivery, type: `com.github.${name}`, subject: subjectOf(payload, options.defaultSubject) };
    let receipt: FireReceipt;
    try {
      receipt = await fire(payload, fireOptions, request.body.length);
    } catch (error) {
      if (isKindlingError(error) && error.status < 500) throw error;
      ctx.log.error({ delivery, err: messageOf(error) }, 'a delivery could not be stored as an event');
      throw new KindlingError('KND_BUS_UNAVAILABLE', `delivery ${delivery} could not be stored now. ${REDELIVER_HINT}.`, { cause: error });
    }
    if (receipt.duplicate) return { status: 200, body: { fired: false, duplicate: true, eventId: receipt.event.id, reason: `delivery ${delivery} was already received` } };
    return { status: 202, body: { fired: true, eventId: receipt.event.id, type: receipt.event.type } };
  };
}
