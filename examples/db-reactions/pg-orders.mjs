// Places and pays a few orders in PostgreSQL, one transaction each: every insert and every
// update fires the `orders` trigger once. PG_URL is the database (default: the local one).
import pg from 'pg';

const url = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const count = Number(process.env.ORDERS ?? 5);
const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  for (let i = 1; i <= count; i++) {
    const customer = `customer-${i}`;
    const total = (10 + i * 7.25).toFixed(2);
    const { rows } = await client.query('INSERT INTO shop.orders (customer, total) VALUES ($1, $2) RETURNING id', [customer, total]);
    console.log(`placed order #${rows[0].id} for ${customer}: ${total}`);
    if (i % 2 === 1) {
      await client.query("UPDATE shop.orders SET status = 'paid' WHERE id = $1", [rows[0].id]);
      console.log(`  paid order #${rows[0].id}`);
    }
  }
} finally {
  await client.end();
}
