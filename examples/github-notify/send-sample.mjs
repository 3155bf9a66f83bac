#!/usr/bin/env node
// Posts a signed pull_request delivery to a github/webhook feed of a running `kindling up`, the way
// GitHub would: the body signed (HMAC SHA-256) with the feed's secret, which `kindling feed get`
// shows while the feed has no access token.
//
//   node send-sample.mjs [trigger] [action]      defaults: prs opened
//   KINDLING_APIHOST=http://127.0.0.1:3233 node send-sample.mjs prs closed
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

const trigger = process.argv[2] ?? 'prs';
const action = process.argv[3] ?? 'opened';
const apiHost = (process.env.KINDLING_APIHOST ?? 'http://127.0.0.1:3233').replace(/\/$/, '');

const feed = JSON.parse(execFileSync('npx', ['--no-install', 'kindling', 'feed', 'get', trigger, '--json'], { encoding: 'utf8' }));
const secret = feed.details?.secret;
if (typeof secret !== 'string' || secret === '********') {
  console.error(
    secret === '********'
      ? `feed ${trigger} has an access token: GitHub holds its secret, and READ keeps it masked. Try this with a feed without accessToken.`
      : `feed ${trigger} has no secret yet (it has not started): run this again in a moment.`,
  );
  process.exit(1);
}

const payload = JSON.parse(readFileSync(new URL('./pull-request-opened.json', import.meta.url), 'utf8'));
payload.action = action;
const body = JSON.stringify(payload);
const delivery = randomUUID();
// Sent to the local API: the feed's payloadUrl is the public URL GitHub would use.
const response = await fetch(`${apiHost}/hooks/github/${feed.id}`, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/kindling-example',
    'x-github-event': 'pull_request',
    'x-github-delivery': delivery,
    'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  },
  body,
});
console.log(`delivery ${delivery} (pull_request.${action}) → ${response.status} ${await response.text()}`);
process.exit(response.ok ? 0 : 1);
