// The action the example's rule runs: the new item's fields arrive as its parameters.
function main(item) {
  console.log(`new item ${item.id}: ${item.title}`);
  return { headline: item.title, link: item.url ?? null, published: item.date_published ?? null };
}
