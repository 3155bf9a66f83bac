-- The example's table, in a schema of its own so that it stays out of the way.
CREATE SCHEMA IF NOT EXISTS shop;
CREATE TABLE IF NOT EXISTS shop.orders (
  id serial PRIMARY KEY,
  customer text NOT NULL,
  total numeric(10, 2) NOT NULL,
  status text NOT NULL DEFAULT 'open',
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Updates then carry the whole row before the change too (data.old), not only its key.
ALTER TABLE shop.orders REPLICA IDENTITY FULL;
