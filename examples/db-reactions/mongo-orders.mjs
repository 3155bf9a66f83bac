// The MongoDB twin of pg-orders.mjs: places and pays a few orders in shop.orders.
// MONGODB_URL is a replica set (docker/mongodb/compose.yaml starts one).
import { MongoClient } from 'mongodb';

const url = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27017/?directConnection=true';
const count = Number(process.env.ORDERS ?? 5);
const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
await client.connect();
try {
  const orders = client.db('shop').collection('orders');
  for (let i = 1; i <= count; i++) {
    const order = { customer: `customer-${i}`, total: 10 + i * 7.25, status: 'open', createdAt: new Date() };
    const { insertedId } = await orders.insertOne(order);
    console.log(`placed order ${insertedId} for ${order.customer}: ${order.total}`);
    if (i % 2 === 1) {
      await orders.updateOne({ _id: insertedId }, { $set: { status: 'paid' } });
      console.log(`  paid order ${insertedId}`);
    }
  }
} finally {
  await client.close();
}
