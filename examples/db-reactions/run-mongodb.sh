#!/usr/bin/env bash
# MongoDB → Kindling, the twin of run.sh. Needs a replica set and the mongodb provider:
#   docker compose -f docker/mongodb/compose.yaml up -d --wait
#   npx kindling up --provider @kindling/mongodb
# MONGODB_URL is the replica set (default: the one docker/mongodb starts).
set -euo pipefail
cd "$(dirname "$0")"
MONGODB_URL="${MONGODB_URL:-mongodb://127.0.0.1:27017/?directConnection=true}"
kindling() { npx --no-install kindling "$@"; }

kindling action create ship-order ship-order.js
kindling trigger create mongo-orders --feed mongodb/changes \
  -p uri "$MONGODB_URL" -p database shop -p collection orders \
  -p operationTypes insert,update -p fullDocument updateLookup
kindling rule create ship-paid-mongo mongo-orders ship-order \
  --filter '{"data.operationType": "update", "data.updateDescription.updatedFields.status": "paid"}'

echo "--- placing orders"
MONGODB_URL="$MONGODB_URL" node mongo-orders.mjs
sleep 2

echo "--- ship-order ran once per paid order"
kindling activation list ship-order --limit 10
kindling feed get mongo-orders

kindling rule delete ship-paid-mongo
kindling trigger delete mongo-orders
kindling action delete ship-order
