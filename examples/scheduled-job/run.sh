#!/usr/bin/env bash
# Creates the example's entities on a running `kindling up` and shows the first activations.
set -euo pipefail
cd "$(dirname "$0")"
kindling() { npx --no-install kindling "$@"; }

kindling action create hello hello.js -p name Kindling
kindling trigger create every-second --feed alarms/interval -p seconds 1 -p trigger_payload '{"note":"from the alarm"}'
kindling rule create hello-every-second every-second hello
echo "waiting for three activations..."
sleep 4
kindling activation list hello --limit 3
id=$(kindling activation list hello --limit 1 --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].activationId))')
kindling activation result "$id"
kindling activation logs "$id"
kindling feed pause every-second
kindling feed get every-second
kindling trigger delete every-second
kindling rule delete hello-every-second
kindling action delete hello
