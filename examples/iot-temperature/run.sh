#!/usr/bin/env bash
# Creates the example's entities on a running `kindling up`, runs the simulated sensors, shows
# the alerts, and removes what it created. MQTT_URL is the broker the feed and the sensors use:
# the one `kindling up` embeds by default.
set -euo pipefail
cd "$(dirname "$0")"
MQTT_URL="${MQTT_URL:-mqtt://127.0.0.1:1883}"
THRESHOLD="${THRESHOLD:-30}"
kindling() { npx --no-install kindling "$@"; }

kindling action create alert-action alert.js -p threshold "$THRESHOLD"
kindling trigger create temps --feed mqtt/subscription \
  -p url "$MQTT_URL" -p topic 'sensors/+/temperature' -p idField seq
kindling rule create too-hot temps alert-action --filter "{\"data.payload.temperature\": {\"\$gt\": $THRESHOLD}}"
kindling feed get temps

echo "--- sensors publishing to $MQTT_URL"
MQTT_URL="$MQTT_URL" ROUNDS="${ROUNDS:-15}" node sensors.mjs
sleep 2

echo "--- alerts (one activation of alert-action per reading above $THRESHOLD °C)"
kindling activation list alert-action --limit 10
id=$(kindling activation list alert-action --limit 1 --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const a=JSON.parse(s);console.log(a.length?a[0].activationId:"")})')
if [ -n "$id" ]; then
  kindling activation result "$id"
  kindling activation logs "$id"
else
  echo "no reading went above $THRESHOLD °C this time; run it again, or THRESHOLD=25 bash run.sh"
fi
kindling feed get temps

kindling rule delete too-hot
kindling trigger delete temps
kindling action delete alert-action
