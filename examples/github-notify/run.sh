#!/usr/bin/env bash
# Creates the example's entities on a running `kindling up`, posts signed sample deliveries as
# GitHub would, shows the notification, and removes what it created. The feed has no access
# token, so nothing is registered on GitHub: the deliveries come from send-sample.mjs.
set -euo pipefail
cd "$(dirname "$0")"
REPOSITORY="${REPOSITORY:-octo/hello}"
kindling() { npx --no-install kindling "$@"; }

kindling action create notify notify.js
kindling trigger create prs --feed github/webhook -p repository "$REPOSITORY" -p events pull_request
kindling rule create pr-opened prs notify --filter '{"type": "com.github.pull_request.opened"}'

# The secret is generated when the feed starts, a moment after it is created.
for _ in $(seq 50); do
  kindling feed get prs --json | grep -q '"secret": "[0-9a-f]' && break
  sleep 0.1
done
kindling feed get prs

echo "--- a pull request opened, then closed (the rule runs notify for the first only)"
node send-sample.mjs prs opened
node send-sample.mjs prs closed
sleep 2

echo "--- the notification"
kindling activation list notify --limit 5
id=$(kindling activation list notify --limit 1 --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const a=JSON.parse(s);console.log(a.length?a[0].activationId:"")})')
if [ -n "$id" ]; then
  kindling activation result "$id"
  kindling activation logs "$id"
fi
kindling feed get prs

kindling rule delete pr-opened
kindling trigger delete prs
kindling action delete notify
