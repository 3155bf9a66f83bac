/**
 * A test-isolation prefix: with a scope, every stream, bucket, durable and subject the backend
 * touches gets it, so that many tests (or platforms) share one nats-server without meeting.
 * Callers keep using the unscoped names; the scope is added and removed here.
 */
export class NatsScope {
  constructor(readonly scope: string | undefined) {}

  subject(subject: string): string {
    return this.scope === undefined ? subject : `${this.scope}.${subject}`;
  }

  unscopedSubject(subject: string): string {
    return this.scope === undefined ? subject : subject.slice(this.scope.length + 1);
  }

  /** Streams, durables and buckets share one rule: `<scope>_<name>`. */
  name(name: string): string {
    return this.scope === undefined ? name : `${this.scope}_${name}`;
  }

  unscopedName(name: string): string {
    return this.scope === undefined ? name : name.slice(this.scope.length + 1);
  }

  /** Whether a JetStream stream (key-value buckets included, as `KV_<bucket>`) belongs to the scope. */
  ownsStream(stream: string): boolean {
    if (this.scope === undefined) return false;
    return stream.startsWith(`${this.scope}_`) || stream.startsWith(`KV_${this.scope}_`);
  }
}
