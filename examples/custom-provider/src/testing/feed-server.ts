import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A JSON Feed served on a random loopback port, newest item first, behind a bearer token. */
export class FeedServer {
  readonly items: Array<{ id: string; title: string; date_published: string }> = [];
  url = '';
  private server?: Server;

  constructor(private readonly token: string) {}

  publish(id: string, title: string): void {
    this.items.unshift({ id, title, date_published: new Date().toISOString() });
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      if (request.headers.authorization !== `Bearer ${this.token}`) {
        response.writeHead(401).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/feed+json' });
      response.end(JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'Kindling news', items: this.items }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/feed.json`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
