import { describe, expect, it } from '@jest/globals';
import { connectionSecrets, scrubbedError } from './connection-secrets.js';

describe('connection secrets', () => {
  it('finds the password and the user info of a URL, as written and decoded, longest first', () => {
    const connection = 'postgres://app:p%40ss-w0rd@db.internal:5432/orders';
    const secrets = connectionSecrets(connection);
    expect(secrets).toEqual(expect.arrayContaining([connection, 'app:p%40ss-w0rd', 'app:p@ss-w0rd', 'p%40ss-w0rd', 'p@ss-w0rd']));
    expect(secrets[0]).toBe(connection);
    expect([...secrets].sort((a, b) => b.length - a.length)).toEqual(secrets);
  });

  it('reads a MongoDB URI with several hosts, which new URL cannot parse', () => {
    const uri = 'mongodb://app:s3cr%2Ft@a.internal:27017,b.internal:27017/?replicaSet=rs0';
    expect(connectionSecrets(uri)).toEqual(expect.arrayContaining([uri, 'app:s3cr%2Ft', 's3cr%2Ft', 's3cr/t']));
  });

  it('finds a password given as a query parameter', () => {
    expect(connectionSecrets('postgres://db/orders?user=app&password=a%20b')).toEqual(expect.arrayContaining(['a b', 'a%20b']));
  });

  it('leaves a user name without a password in messages', () => {
    const connection = 'postgres://replicator@db/orders';
    expect(scrubbedError(new Error("role 'replicator' may not replicate"), connection).message).toBe("role 'replicator' may not replicate");
  });

  it('scrubs every secret from an error message and keeps the driver code', () => {
    const connection = 'postgres://app:p%40ss-w0rd@db/orders';
    const error = scrubbedError(Object.assign(new Error(`cannot reach ${connection}; password p@ss-w0rd rejected`), { code: '28P01' }), connection);
    expect(error.message).toBe('cannot reach [redacted]; password [redacted] rejected');
    expect(error).toMatchObject({ code: '28P01' });
  });
});
