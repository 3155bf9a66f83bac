// A Kindling (and OpenWhisk) action, run for each order that becomes paid. The change feed's
// event data arrives as the parameters:
// - PostgreSQL: {operation, schema, table, new, old, lsn, xid, commitTime};
// - MongoDB: the change event {operationType, ns, documentKey, fullDocument, updateDescription, …}
//   in relaxed Extended JSON.
function main(params) {
  const fromPostgres = params.operation !== undefined;
  const order = (fromPostgres ? params.new : params.fullDocument) ?? {};
  const id = fromPostgres ? order.id : (order._id?.$oid ?? JSON.stringify(params.documentKey));
  const source = fromPostgres ? `postgres ${params.schema}.${params.table}` : `mongodb ${params.ns?.db}.${params.ns?.coll}`;
  console.log(`shipping order ${id} of ${order.customer} (${order.total}), paid — from ${source}`);
  return { shipped: id, customer: order.customer, total: order.total, source };
}
