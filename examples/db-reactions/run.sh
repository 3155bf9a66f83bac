#!/usr/bin/env bash
# PostgreSQL → Kindling: creates the example's table (schema.sql) and entities on a running
# `kindling up`, places and pays orders, shows the activations, and removes the entities (the
# table stays; `DROP SCHEMA shop CASCADE` removes it). Deleting the trigger deletes its feed,
# and with it the feed's replication slot and publication.
# PG_URL is the database (default: the local PostgreSQL, which needs wal_level=logical).
set -euo pipefail
cd "$(dirname "$0")"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
kindling() { npx --no-install kindling "$@"; }

psql "$PG_URL" -q -f schema.sql
kindling action create ship-order ship-order.js
kindling trigger create orders --feed postgres/changes \
  -p connection "$PG_URL" -p tables shop.orders -p operations insert,update
kindling rule create ship-paid orders ship-order \
  --filter '{"data.operation": "update", "data.new.status": "paid", "data.old.status": {"$ne": "paid"}}'

echo "--- placing orders"
PG_URL="$PG_URL" node pg-orders.mjs
sleep 2

echo "--- ship-order ran once per paid order"
kindling activation list ship-order --limit 10
id=$(kindling activation list ship-order --limit 1 --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const a=JSON.parse(s);console.log(a.length?a[0].activationId:"")})')
[ -n "$id" ] && kindling activation result "$id" && kindling activation logs "$id"
echo "--- the feed: every insert and update fired the trigger; READ shows the slot and its lag"
kindling feed get orders

kindling rule delete ship-paid
kindling trigger delete orders
kindling action delete ship-order
