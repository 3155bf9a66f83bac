import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ApiClient, ApiError, entityPath, qualifiedName } from './api-client.js';

const AUTH = 'uuid:key';

describe('ApiClient', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('counts an API that accepts the connection but never answers as unreachable', async () => {
    const apihost = await serve(() => undefined);
    const client = new ApiClient({ apihost, auth: AUTH }, { timeoutMs: 200 });
    await expect(client.request('GET', 'namespaces')).rejects.toMatchObject({ code: 'KND_UNREACHABLE', message: expect.stringMatching(/no answer .* within 200 ms/) });
  });

  it('uses a short non-JSON error body as the message, else the status text', async () => {
    const apihost = await serve((req, res) => {
      res.writeHead(req.url?.includes('text') ? 502 : 500, { 'content-type': 'text/plain' });
      res.end(req.url?.includes('text') ? 'Bad Gateway from proxy' : '');
    });
    const client = new ApiClient({ apihost, auth: AUTH });
    const text = await client.request('GET', 'text').catch((e: unknown) => e);
    expect(text).toBeInstanceOf(ApiError);
    expect((text as ApiError).message).toBe('Bad Gateway from proxy (HTTP 502)');
    await expect(client.request('GET', 'empty')).rejects.toThrow('Internal Server Error (HTTP 500)');
  });
});

describe('entity paths', () => {
  it("names the caller's namespace `_` unless the name is /ns/name, and encodes each segment", () => {
    expect(entityPath('actions', 'hello')).toBe('namespaces/_/actions/hello');
    expect(entityPath('actions', '')).toBe('namespaces/_/actions');
    expect(entityPath('actions', 'a b?c')).toBe('namespaces/_/actions/a%20b%3Fc');
    expect(entityPath('actions', '/john@example.com_dev/pkg/x')).toBe('namespaces/john%40example.com_dev/actions/pkg/x');
    expect(qualifiedName('hello')).toBe('/_/hello');
    expect(qualifiedName('/guest/hello')).toBe('/guest/hello');
  });
});
