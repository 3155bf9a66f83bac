/** What a broker's refusal to connect means, and whether trying again can help. */
export interface ConnectRefusal {
  description: string;
  /** False when retrying with the same settings cannot succeed (bad credentials, a rejected client id). */
  retryable: boolean;
}

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3). */
const CONNACK_V4: Record<number, ConnectRefusal> = {
  1: { description: 'unacceptable protocol version', retryable: false },
  2: { description: 'client identifier rejected', retryable: false },
  3: { description: 'server unavailable', retryable: true },
  4: { description: 'bad user name or password', retryable: false },
  5: { description: 'not authorized', retryable: false },
};

/** MQTT 5 CONNACK reason codes (§3.2.2.2). */
const CONNACK_V5: Record<number, ConnectRefusal> = {
  0x80: { description: 'unspecified error', retryable: true },
  0x81: { description: 'malformed packet', retryable: false },
  0x82: { description: 'protocol error', retryable: false },
  0x83: { description: 'implementation specific error', retryable: true },
  0x84: { description: 'unsupported protocol version', retryable: false },
  0x85: { description: 'client identifier not valid', retryable: false },
  0x86: { description: 'bad user name or password', retryable: false },
  0x87: { description: 'not authorized', retryable: false },
  0x88: { description: 'server unavailable', retryable: true },
  0x89: { description: 'server busy', retryable: true },
  0x8a: { description: 'banned', retryable: false },
  0x8c: { description: 'bad authentication method', retryable: false },
  0x90: { description: 'topic name invalid', retryable: false },
  0x95: { description: 'packet too large', retryable: false },
  0x97: { description: 'quota exceeded', retryable: true },
  0x99: { description: 'payload format invalid', retryable: false },
  0x9a: { description: 'retain not supported', retryable: false },
  0x9b: { description: 'QoS not supported', retryable: false },
  0x9c: { description: 'use another server', retryable: true },
  0x9d: { description: 'server moved', retryable: true },
  0x9f: { description: 'connection rate exceeded', retryable: true },
};

export function connectRefusal(code: number, protocolVersion: 4 | 5): ConnectRefusal {
  const table = protocolVersion === 5 ? CONNACK_V5 : CONNACK_V4;
  return table[code] ?? { description: `reason code ${code}`, retryable: true };
}

/** True for a refusal about who we are: the status says so, so that the user fixes the credentials. */
export function isCredentialRefusal(code: number, protocolVersion: 4 | 5): boolean {
  return protocolVersion === 5 ? code === 0x86 || code === 0x87 : code === 4 || code === 5;
}

/** MQTT 5 SUBACK failure reason codes (§3.9.3); MQTT 3.1.1 has only 0x80. */
const SUBACK_FAILURES: Record<number, string> = {
  0x80: 'unspecified error (the broker refused it; an access control list may deny it)',
  0x83: 'implementation specific error',
  0x87: 'not authorized',
  0x8f: 'topic filter invalid',
  0x91: 'packet identifier in use',
  0x97: 'quota exceeded',
  0x9e: 'shared subscriptions not supported',
  0xa1: 'subscription identifiers not supported',
  0xa2: 'wildcard subscriptions not supported',
};

export function subscribeFailure(code: number): string | undefined {
  if (code < 0x80) return undefined;
  return SUBACK_FAILURES[code] ?? `reason code ${code}`;
}

/** MQTT 5 DISCONNECT reason codes a broker sends that say why it dropped us. */
const DISCONNECT_V5: Record<number, string> = {
  0x80: 'unspecified error',
  0x87: 'not authorized',
  0x89: 'server busy',
  0x8b: 'server shutting down',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over: another client connected with the same client id (give each provider host its own clientId)',
  0x93: 'receive maximum exceeded',
  0x97: 'quota exceeded',
  0x9c: 'use another server',
  0x9d: 'server moved',
};

export function disconnectReason(code: number): string {
  return DISCONNECT_V5[code] ?? `reason code ${code}`;
}
