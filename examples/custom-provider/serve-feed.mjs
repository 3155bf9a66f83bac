// A JSON Feed to try the provider with: GET /feed.json lists the items, newest first;
// POST /items with {"title": "..."} publishes one. Loopback only. PORT sets the port (8088).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8088);
const items = [];

createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/feed.json') {
    response.writeHead(200, { 'content-type': 'application/feed+json' });
    response.end(JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'My news', items }));
    return;
  }
  if (request.method === 'POST' && request.url === '/items') {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      let title;
      try {
        title = JSON.parse(body || '{}').title;
      } catch {
        response.writeHead(400).end('the body must be JSON, such as {"title":"Hello"}\n');
        return;
      }
      const item = { id: randomUUID(), title: String(title ?? 'Untitled'), date_published: new Date().toISOString() };
      items.unshift(item);
      console.log(`published ${item.id}: ${item.title}`);
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(`${JSON.stringify(item)}\n`);
    });
    return;
  }
  response.writeHead(404).end();
}).listen(port, '127.0.0.1', () => console.log(`JSON Feed at http://127.0.0.1:${port}/feed.json; publish with POST /items`));
