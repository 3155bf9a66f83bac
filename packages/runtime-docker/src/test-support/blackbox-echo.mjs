// A Kindling blackbox image's program, written from the contract alone (it shares no code with
// the Node.js runtime's proxy): serve the OpenWhisk action protocol over HTTP on the unix socket
// named by __KINDLING_PROXY_SOCKET, print the end-of-activation marker on stdout and stderr after
// each run. It echoes its parameters and the activation's context.
import { createServer } from 'node:http';

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
let initialized = false;

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (req.url === '/init') {
      initialized = true;
      return reply(res, 200, { OK: true });
    }
    if (req.url === '/run' && initialized) {
      console.log(`blackbox echo ran ${body.activation_id}`);
      console.error('blackbox echo says hello on stderr');
      process.stdout.write(`${SENTINEL}\n`);
      process.stderr.write(`${SENTINEL}\n`);
      return reply(res, 200, { echo: body.value, activationId: body.activation_id, actionName: body.action_name, uid: process.getuid() });
    }
    reply(res, 500, { error: 'Bad request.' });
  });
});

server.listen(process.env.__KINDLING_PROXY_SOCKET);
process.on('SIGTERM', () => process.exit(0));
