import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is. */
  payload?: unknown;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  // Tests read answers of many shapes; typing each would say nothing the assertions do not.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json(): any;
}

/**
 * Real HTTP on a loopback port. fastify's `inject()` cannot run under jest on this Node: its
 * light-my-request requires `cookie` 2, an ES module, and jest's CommonJS loader cannot load that.
 */
export async function listenOnLoopback(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

export function httpClient(baseUrl: string): (request: HttpRequest) => Promise<HttpResponse> {
  return async ({ method, url, headers = {}, payload }) => {
    let body: string | Buffer | undefined;
    const sent = { ...headers };
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) body = payload;
    else if (payload !== undefined) {
      body = JSON.stringify(payload);
      sent['content-type'] ??= 'application/json';
    }
    const response = await fetch(baseUrl + url, { method, headers: sent, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    return {
      statusCode: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      body: text,
      json: () => JSON.parse(text),
    };
  };
}
