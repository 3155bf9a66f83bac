import { compileQueryFilter, z } from '@kindling/sdk';
import { parseSubscription, shareGroupProblem } from './topic-filter.js';

const SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];
const TLS_SCHEMES = ['mqtts:', 'wss:'];

export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;
/** Above this, an event (base64 grows bytes by a third) would not fit a default NATS message of 1 MiB. */
export const MAX_PAYLOAD_BYTES_LIMIT = 512 * 1024;

/** Parameters that are secrets: masked on READ, never logged, never in a status or an event. */
export const SUBSCRIPTION_SECRETS = ['username', 'password', 'ca', 'cert', 'key'] as const;

const brokerUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a broker URL such as mqtt://broker:1883, not '${value}'` });
    return;
  }
  if (!SCHEMES.includes(url.protocol)) {
    ctx.addIssue({ code: 'custom', message: `scheme '${url.protocol.replace(/:$/, '')}' is not supported: use mqtt, mqtts, ws or wss` });
  } else if (!url.hostname) {
    ctx.addIssue({ code: 'custom', message: 'must name a host, as in mqtt://broker:1883' });
  }
  if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'must not carry credentials: pass them as the username and password parameters, which are kept secret' });
  }
});

const topicFilter = z.string().superRefine((value, ctx) => {
  try {
    parseSubscription(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

const pem = z.string().min(1, 'must be a PEM text');

export const subscriptionParams = z
  .strictObject({
    url: brokerUrl,
    topic: z.union([topicFilter, z.array(topicFilter).min(1, 'must list at least one topic filter').max(100, 'must list at most 100 topic filters')]),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)], { error: 'must be 0, 1 or 2' }).default(1),
    clientId: z
      .string()
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters')
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional(),
    clean: z.boolean().default(false),
    username: z.string().min(1, 'must not be empty').optional(),
    password: z.string().optional(),
    ca: pem.optional(),
    cert: pem.optional(),
    key: pem.optional(),
    rejectUnauthorized: z.boolean().default(true),
    protocolVersion: z.union([z.literal(4), z.literal(5)], { error: 'must be 4 (MQTT 3.1.1) or 5 (MQTT 5)' }).default(4),
    format: z.enum(['json', 'text', 'binary']).default('json'),
    filter: z
      .record(z.string(), z.unknown(), { error: 'must be an object holding a MongoDB query, such as {"payload.temperature": {"$gt": 30}}' })
      .superRefine((value, ctx) => {
        try {
          compileQueryFilter(value);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      })
      .optional(),
    idField: z
      .string()
      .regex(/^[^.$][^$]*$/, "must be a dotted path into the payload, such as 'id' or 'meta.messageId'")
      .optional(),
    shareGroup: z
      .string()
      .superRefine((value, ctx) => {
        const problem = shareGroupProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    maxPayloadBytes: z
      .number()
      .int('must be a whole number of bytes')
      .positive('must be positive')
      .max(MAX_PAYLOAD_BYTES_LIMIT, `must be at most ${MAX_PAYLOAD_BYTES_LIMIT} (a larger event would not fit the bus)`)
      .default(DEFAULT_MAX_PAYLOAD_BYTES),
  })
  .superRefine((params, ctx) => {
    const tls = TLS_SCHEMES.some((scheme) => params.url.startsWith(scheme));
    for (const field of ['ca', 'cert', 'key'] as const) {
      if (params[field] !== undefined && !tls) {
        ctx.addIssue({ code: 'custom', path: [field], message: 'is a TLS option: use an mqtts:// or wss:// url' });
      }
    }
    if ((params.cert === undefined) !== (params.key === undefined)) {
      ctx.addIssue({ code: 'custom', path: [params.cert === undefined ? 'cert' : 'key'], message: 'a client certificate needs both cert and key' });
    }
    if (params.password !== undefined && params.username === undefined) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'is required when a password is given' });
    }
    if (params.idField !== undefined && params.format !== 'json') {
      ctx.addIssue({ code: 'custom', path: ['idField'], message: "needs format 'json': it names a field of the payload" });
    }
  });

export type SubscriptionParams = z.output<typeof subscriptionParams>;

/** The topic filters of a feed, as a list. */
export function topicsOf(params: Pick<SubscriptionParams, 'topic'>): string[] {
  return typeof params.topic === 'string' ? [params.topic] : params.topic;
}
